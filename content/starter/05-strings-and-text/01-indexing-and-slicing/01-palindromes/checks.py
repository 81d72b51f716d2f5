def check_simple():
    """"level" is a palindrome and "python" is not"""
    assert is_palindrome("level") is True, "\"level\" reads the same backwards. A slice with a step of -1 reverses a string."
    assert is_palindrome("python") is False, "\"python\" backwards is different, so the answer should be False."


def check_case():
    """Upper and lower case don't matter"""
    assert is_palindrome("Racecar") is True, "\"Racecar\" should count as a palindrome. Compare the words in the same case."


def check_short_words():
    """Single letters and empty text are palindromes"""
    assert is_palindrome("a") is True, "A single letter reads the same both ways."
    assert is_palindrome("") is True, "Empty text is the same backwards too."
