def celsius_to_fahrenheit(celsius):
    # TODO: multiply by 9, divide by 5, then add 32, and return the result
    fahrenheit = 0
    return fahrenheit
