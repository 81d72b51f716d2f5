def average(numbers):
    total = 0
    for number in numbers:
        total = number
    return total / len(numbers)


# Try it: print(average([2, 4, 9]))
# Try it: print(average([]))
