def check_default_tip():
    """split_bill(100, 4) adds a 10% tip: 27.5 each"""
    assert split_bill(100, 4) == 27.5, "With no tip_percent given, a 10 percent tip should be added before sharing the bill."


def check_tip_by_name():
    """The tip can be given as tip_percent"""
    try:
        share = split_bill(100, 4, tip_percent=20)
    except TypeError:
        raise AssertionError("Add a third parameter called tip_percent with a default value.")
    assert share == 30.0, "With a 20 percent tip, the bill to share is bigger. Check how you use tip_percent."


def check_rounding():
    """Each share is rounded to 2 decimal places"""
    assert split_bill(10, 3) == 3.67, "Shares of money should be rounded to 2 decimal places with round()."
    assert split_bill(50, 1, tip_percent=0) == 50, "With no tip and one person, the share is the whole bill."
