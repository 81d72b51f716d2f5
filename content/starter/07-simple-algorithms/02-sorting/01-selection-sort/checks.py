def check_example():
    """sort_numbers([5, 2, 9, 1]) returns [1, 2, 5, 9]"""
    assert sort_numbers([5, 2, 9, 1]) == [1, 2, 5, 9], "The numbers should come back from smallest to largest."


def check_duplicates_and_negatives():
    """Handles repeated and negative numbers"""
    assert sort_numbers([3, -1, 3, 0, -5]) == [-5, -1, 0, 3, 3], "Check a list with negative numbers and repeats. Every number should still be there."
    assert sort_numbers([]) == [], "An empty list sorts to an empty list."


def check_original_unchanged():
    """The original list is not changed"""
    numbers = [4, 3, 2, 1]
    sort_numbers(numbers)
    assert numbers == [4, 3, 2, 1], "Sort a copy, not the list you were given."


def check_no_builtin_sorted():
    """Sorts without sorted()"""

    def forbidden(*args, **kwargs):
        raise AssertionError("This exercise is about writing the sort yourself: try it without sorted().")

    # The student's functions look names up in their own globals first, so this hides the built-in.
    student_globals = sort_numbers.__globals__
    student_globals["sorted"] = forbidden
    try:
        assert sort_numbers([2, 1, 3]) == [1, 2, 3], "The numbers should come back from smallest to largest."
    finally:
        del student_globals["sorted"]
