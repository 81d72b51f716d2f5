def to_number(text, default=0):
    try:
        return int(text)
    except ValueError:
        return default
