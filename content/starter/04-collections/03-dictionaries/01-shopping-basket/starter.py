def basket_total(basket, prices):
    total = 0
    # TODO: loop over the items in the basket and add quantity times price
    return total
