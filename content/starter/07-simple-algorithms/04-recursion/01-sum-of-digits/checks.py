def check_single_digit():
    """A single digit is its own digit sum"""
    assert digit_sum(7) == 7, "For a number with one digit, the answer is the number itself. Check your base case."
    assert digit_sum(0) == 0, "The digit sum of 0 is 0."


def check_example():
    """digit_sum(4096) returns 19"""
    assert digit_sum(4096) == 19, "Add the last digit to the digit sum of the remaining digits."


def check_large():
    """Works for long numbers"""
    assert digit_sum(123456789) == 45, "Try a number with nine digits. Does each call remove one digit?"
    assert digit_sum(10 ** 50) == 1, "A 1 followed by fifty zeros should have a digit sum of 1."


def check_recursive():
    """digit_sum calls itself"""
    calls = []
    student_globals = digit_sum.__globals__
    original = student_globals["digit_sum"]

    def counting(n):
        calls.append(n)
        return original(n)

    student_globals["digit_sum"] = counting
    try:
        original(321)
    finally:
        student_globals["digit_sum"] = original
    assert calls, "This exercise is about recursion: have digit_sum call itself on a smaller number."
