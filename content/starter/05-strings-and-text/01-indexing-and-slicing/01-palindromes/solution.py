def is_palindrome(word):
    lowered = word.lower()
    return lowered == lowered[::-1]
