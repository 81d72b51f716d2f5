def withdraw(balance, amount):
    if amount <= 0:
        raise ValueError("the amount must be more than zero")
    if amount > balance:
        raise ValueError("not enough money in the account")
    return balance - amount
