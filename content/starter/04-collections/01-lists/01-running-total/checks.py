def check_example():
    """running_total([3, 1, 4, 1]) returns [3, 4, 8, 9]"""
    result = running_total([3, 1, 4, 1])
    assert isinstance(result, list), "running_total should return a list."
    assert len(result) == 4, "The result should have one total for each number in the list."
    assert result == [3, 4, 8, 9], "Each item should be the sum of all the numbers so far, including the current one."


def check_empty():
    """An empty list gives an empty list"""
    assert running_total([]) == [], "With no numbers there are no totals."


def check_input_unchanged():
    """The original list is not changed"""
    numbers = [5, -2, 10]
    result = running_total(numbers)
    assert numbers == [5, -2, 10], "Build a new list instead of changing the one you were given."
    assert result == [5, 3, 13], "Negative numbers make the total go down."
