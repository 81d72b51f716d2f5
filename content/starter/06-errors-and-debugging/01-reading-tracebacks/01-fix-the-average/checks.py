def check_example():
    """average([2, 4, 9]) returns 5.0"""
    assert average([2, 4, 9]) == 5.0, "The result is wrong. Print total inside the loop: does it add up every number?"


def check_single():
    """average of one number is that number"""
    assert average([7]) == 7, "The average of a list with one number is that number."


def check_empty():
    """average([]) returns 0 instead of crashing"""
    assert average([]) == 0, "An empty list should give 0. What does len([]) give, and what happens when you divide by it?"
