def word_counts(text):
    counts = {}
    for word in text.split():
        # TODO: clean up the word and add one to its count
        pass
    return counts
