def sort_numbers(numbers):
    result = list(numbers)
    # TODO: put result in ascending order using loops (no sorted() or .sort())
    return result
