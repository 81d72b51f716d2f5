def last_line(text):
    lines = text.strip().splitlines()
    return lines[-1] if lines else ""


def check_example():
    """apple, 0.5, 3 prints: 3 x apple @ 0.50 = 1.50"""
    printed = last_line(run("apple\n0.5\n3\n"))
    assert "apple" in printed, "Include the item name in the receipt line."
    assert printed.endswith("3 x apple @ 0.50 = 1.50"), "Check the layout: quantity, x, item, @, price, =, total, with two decimal places for both prices."


def check_other_item():
    """Works for another item"""
    printed = last_line(run("notebook\n2.25\n4\n"))
    assert printed.endswith("4 x notebook @ 2.25 = 9.00"), "Try a notebook at 2.25 with a quantity of 4. The total is the price times the quantity."


def check_prompts():
    """Asks with the prompts Item, Price and Quantity"""
    printed = run("tea\n1\n1\n")
    assert "Item: " in printed and "Price: " in printed and "Quantity: " in printed, "Use the prompts given in the exercise for the three inputs."
