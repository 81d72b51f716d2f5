def initials(full_name):
    result = ""
    # TODO: split the name into words and add each word's first letter, in capitals, and a full stop
    return result
