def sort_numbers(numbers):
    result = list(numbers)
    for start in range(len(result)):
        smallest = start
        for i in range(start + 1, len(result)):
            if result[i] < result[smallest]:
                smallest = i
        result[start], result[smallest] = result[smallest], result[start]
    return result
