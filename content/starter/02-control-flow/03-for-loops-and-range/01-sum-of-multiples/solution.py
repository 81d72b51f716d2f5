def sum_of_multiples(limit):
    total = 0
    for n in range(1, limit):
        if n % 3 == 0 or n % 5 == 0:
            total += n
    return total
