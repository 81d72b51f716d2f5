def is_palindrome(word):
    # TODO: compare the word with its reverse, ignoring case
    return False
