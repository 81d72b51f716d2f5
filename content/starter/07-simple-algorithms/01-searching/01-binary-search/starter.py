def binary_search(items, target):
    low = 0
    high = len(items) - 1
    # TODO: while the range is not empty, look at the middle item and halve the range
    return -1
