def sum_of_multiples(limit):
    total = 0
    # TODO: loop over the numbers below limit and add the ones divisible by 3 or 5
    return total
