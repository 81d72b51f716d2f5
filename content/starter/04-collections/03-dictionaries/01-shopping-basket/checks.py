PRICES = {"apple": 0.5, "milk": 0.9, "bread": 1.2}


def check_example():
    """basket_total({"apple": 3, "milk": 1}, prices) returns 2.4"""
    assert basket_total({"apple": 3, "milk": 1}, PRICES) == 2.4, "Multiply each item's quantity by its price, and add those up."


def check_empty_basket():
    """An empty basket costs 0"""
    assert basket_total({}, PRICES) == 0, "With nothing in the basket the total should be 0."


def check_rounding():
    """The total is rounded to 2 decimal places"""
    assert basket_total({"bread": 3, "milk": 3}, PRICES) == 6.3, "Prices with decimals can add up to long numbers. Round the total to 2 places."


def check_unknown_item():
    """Items without a price cost nothing"""
    assert basket_total({"apple": 2, "mystery": 5}, PRICES) == 1.0, "An item missing from prices should not cause an error. dict.get can supply a default."
