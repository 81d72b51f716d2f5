def check_example():
    """common_letters("apple", "plum") returns ["l", "p"]"""
    result = common_letters("apple", "plum")
    assert isinstance(result, list), "Return a list. sorted() turns a set into a sorted list."
    assert result == ["l", "p"], "Only letters found in both words should be in the result, in alphabetical order."


def check_no_duplicates():
    """Each letter appears only once"""
    assert common_letters("banana", "cabana") == ["a", "b", "n"], "A letter that appears several times should still be listed once."


def check_case():
    """Upper and lower case count as the same letter"""
    assert common_letters("Apple", "PLUM") == ["l", "p"], "Convert both words to lower case before comparing."


def check_nothing_shared():
    """Words with no letters in common give an empty list"""
    assert common_letters("cat", "dog") == [], "When the words share no letters, return an empty list."
