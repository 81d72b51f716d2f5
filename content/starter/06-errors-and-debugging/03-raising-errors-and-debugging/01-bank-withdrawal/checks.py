def raises_value_error(balance, amount):
    try:
        withdraw(balance, amount)
    except ValueError:
        return True
    return False


def check_normal():
    """withdraw(100, 30) returns 70"""
    assert withdraw(100, 30) == 70, "A normal withdrawal should return what is left in the account."
    assert withdraw(50, 50) == 0, "Taking out the whole balance is allowed."


def check_too_much():
    """Taking out more than the balance raises ValueError"""
    assert raises_value_error(100, 150), "Withdrawing more than the balance should raise a ValueError, not return a negative balance."


def check_not_positive():
    """Zero or negative amounts raise ValueError"""
    assert raises_value_error(100, -20), "A negative amount would add money. Raise a ValueError instead."
    assert raises_value_error(100, 0), "Withdrawing nothing is not a real withdrawal. Raise a ValueError for 0 too."
