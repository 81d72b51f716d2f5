def common_letters(first, second):
    shared = set(first.lower()) & set(second.lower())
    return sorted(shared)
