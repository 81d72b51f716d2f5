def check_simple():
    """Counts each word"""
    result = word_counts("red blue red green red")
    assert isinstance(result, dict), "Return a dictionary from words to counts."
    assert result == {"red": 3, "blue": 1, "green": 1}, "Each word should map to how many times it appears."


def check_case():
    """Upper and lower case count as the same word"""
    result = word_counts("Sun sun SUN")
    assert result == {"sun": 3}, "Convert words to lower case before counting them."


def check_punctuation():
    """Punctuation at the ends of words is ignored"""
    result = word_counts("The cat saw the dog.")
    assert result.get("dog") == 1, "\"dog.\" should be counted as \"dog\". strip() can remove several characters from the ends of a word."
    assert result == {"the": 2, "cat": 1, "saw": 1, "dog": 1}, "Check every word: lower case, no punctuation at the ends."


def check_empty():
    """Empty text gives an empty dictionary"""
    assert word_counts("") == {}, "Text with no words should give an empty dictionary."
