def check_valid():
    """to_number("42") returns 42"""
    assert to_number("42") == 42, "Valid text should be converted to a whole number."
    assert to_number(" -7 ") == -7, "int() copes with spaces and minus signs, so your function should too."


def check_invalid():
    """Bad text returns the default of 0"""
    try:
        result = to_number("forty")
    except ValueError:
        raise AssertionError("to_number(\"forty\") raised a ValueError. Catch it with try and except.")
    assert result == 0, "When the text is not a number, return the default."


def check_custom_default():
    """A different default can be given"""
    assert to_number("3.5", default=-1) == -1, "Use the default parameter rather than a fixed value."
    assert to_number("", default=None) is None, "Empty text is not a number either."
