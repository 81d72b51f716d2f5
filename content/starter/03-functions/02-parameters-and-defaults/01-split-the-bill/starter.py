def split_bill(total, people):
    # TODO: add a tip_percent parameter with a default of 10,
    # add the tip, share the bill and round each share to 2 decimal places
    return total / people
