def basket_total(basket, prices):
    total = 0
    for item, quantity in basket.items():
        total += quantity * prices.get(item, 0)
    return round(total, 2)
