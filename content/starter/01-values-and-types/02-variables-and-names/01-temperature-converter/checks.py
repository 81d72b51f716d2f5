def check_boiling():
    """celsius_to_fahrenheit(100) returns 212"""
    result = celsius_to_fahrenheit(100)
    assert result is not None, "Your function returned None. Remember to return the converted value."
    assert result == 212, "Water boils at 100 degrees Celsius. Check each step of the formula."


def check_freezing():
    """celsius_to_fahrenheit(0) returns 32"""
    assert celsius_to_fahrenheit(0) == 32, "At 0 degrees Celsius only the 'add 32' step changes anything."


def check_below_zero():
    """Works for temperatures below zero"""
    assert celsius_to_fahrenheit(-40) == -40, "Try a negative temperature: does your formula still follow the steps in order?"
    assert abs(celsius_to_fahrenheit(37) - 98.6) < 0.001, "Body temperature, 37 degrees Celsius, should be close to 98.6."
