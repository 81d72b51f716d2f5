def common_letters(first, second):
    # TODO: turn each word into a set of lower-case letters and find the letters in both
    return []
