def check_two_words():
    """initials("ada lovelace") returns "A.L." """
    result = initials("ada lovelace")
    assert isinstance(result, str) and result != "", "Return the initials as a string."
    assert result == "A.L.", "Take the first letter of each word, make it a capital, and follow it with a full stop."


def check_three_words():
    """Works for names with three words"""
    assert initials("Grace Brewster Hopper") == "G.B.H.", "Every word of the name should give one initial."


def check_extra_spaces():
    """Extra spaces don't matter"""
    assert initials("  alan   turing ") == "A.T.", "Spaces around and between words should not create extra initials. split() with no argument helps."
