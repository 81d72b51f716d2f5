def check_found():
    """Finds items in a sorted list"""
    items = [3, 6, 9, 12, 15]
    assert binary_search(items, 12) == 3, "binary_search([3, 6, 9, 12, 15], 12) should return the index of 12."
    assert binary_search(items, 9) == 2, "Check the item that is exactly in the middle."


def check_ends():
    """Finds the first and last items"""
    items = [3, 6, 9, 12, 15]
    assert binary_search(items, 3) == 0, "The first item should be found too. Is your range inclusive at both ends?"
    assert binary_search(items, 15) == 4, "The last item should be found too. Does your loop stop too early?"


def check_missing():
    """Returns -1 for missing items"""
    assert binary_search([3, 6, 9, 12, 15], 7) == -1, "A value between two items is not in the list."
    assert binary_search([], 5) == -1, "An empty list contains nothing."


def check_large():
    """Works on a long list"""
    items = list(range(0, 2000, 2))
    assert binary_search(items, 1398) == 699, "Try a longer sorted list: every even number from 0 to 1998."
    assert binary_search(items, 1399) == -1, "Odd numbers are not in that list."
