def withdraw(balance, amount):
    # TODO: raise a ValueError when amount is not positive or is more than the balance
    return balance - amount
