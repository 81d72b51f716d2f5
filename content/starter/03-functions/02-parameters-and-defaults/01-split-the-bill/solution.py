def split_bill(total, people, tip_percent=10):
    with_tip = total + total * tip_percent / 100
    return round(with_tip / people, 2)
