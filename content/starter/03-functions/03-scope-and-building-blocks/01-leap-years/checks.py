def check_ordinary_years():
    """2024 is a leap year and 2023 is not"""
    assert is_leap_year(2024) is True, "2024 is divisible by 4, so it should be a leap year (return True)."
    assert is_leap_year(2023) is False, "2023 is not divisible by 4, so it should not be a leap year (return False)."


def check_centuries():
    """1900 is not a leap year, but 2000 is"""
    assert is_leap_year(1900) is False, "Years divisible by 100 are an exception to the divisible-by-4 rule."
    assert is_leap_year(2000) is True, "Years divisible by 400 are an exception to the exception."


def check_days():
    """days_in_year gives 366 or 365"""
    assert days_in_year(2024) == 366, "A leap year has 366 days."
    assert days_in_year(2023) == 365, "An ordinary year has 365 days."
    assert days_in_year(1900) == 365, "Does days_in_year follow every rule of is_leap_year? Try calling it."
