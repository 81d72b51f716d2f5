def is_leap_year(year):
    """Return True if year is a leap year."""
    # TODO: apply the rules for divisibility by 4, 100 and 400
    return year % 4 == 0


def days_in_year(year):
    """Return the number of days in year."""
    # TODO: use is_leap_year
    return 365
