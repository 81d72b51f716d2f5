def to_number(text, default=0):
    # TODO: use try and except so that bad text gives default
    return int(text)
