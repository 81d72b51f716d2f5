def check_returns_text():
    """greeting returns a string"""
    result = greeting("Ada")
    assert result is not None, "greeting() returned None. Printing is not the same as returning: use return."
    assert isinstance(result, str), "greeting() should return a piece of text."


def check_ada():
    """greeting("Ada") returns "Hello, Ada!" """
    assert greeting("Ada") == "Hello, Ada!", "Look closely at the punctuation and spaces: a comma after Hello, a space, the name, then an exclamation mark."


def check_other_names():
    """Works for any name"""
    assert greeting("Grace") == "Hello, Grace!", "Use the name parameter rather than writing a particular name into the text."
