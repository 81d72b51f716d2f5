def running_total(numbers):
    totals = []
    # TODO: keep a total, and append it to totals after adding each number
    return totals
