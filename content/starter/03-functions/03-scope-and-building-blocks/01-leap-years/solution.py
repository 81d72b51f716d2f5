def is_leap_year(year):
    """Return True if year is a leap year."""
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def days_in_year(year):
    """Return the number of days in year."""
    if is_leap_year(year):
        return 366
    return 365
