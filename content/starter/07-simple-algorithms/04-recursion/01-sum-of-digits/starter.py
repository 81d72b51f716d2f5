def digit_sum(n):
    if n < 10:
        # TODO: the base case: a single digit
        return 0
    # TODO: the last digit plus the digit sum of the rest
    return 0
