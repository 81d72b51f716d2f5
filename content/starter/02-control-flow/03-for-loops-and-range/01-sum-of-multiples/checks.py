def check_below_ten():
    """sum_of_multiples(10) returns 23"""
    assert sum_of_multiples(10) == 23, "Below 10 there are four numbers divisible by 3 or 5. Check which ones your loop adds."


def check_limit_not_included():
    """The limit itself is not included"""
    assert sum_of_multiples(6) == 8, "Only numbers below the limit count: for a limit of 6, the number 6 itself is left out."


def check_no_double_counting():
    """Numbers divisible by both 3 and 5 are added once"""
    assert sum_of_multiples(16) == 60, "15 is divisible by both 3 and 5. Make sure it is only added once."


def check_small_limits():
    """Small limits give 0"""
    assert sum_of_multiples(1) == 0, "There are no numbers to add below 1."
    assert sum_of_multiples(3) == 0, "There are no multiples of 3 or 5 below 3."
