def check_returns_a_number():
    """area(3, 4) returns a number"""
    result = area(3, 4)
    assert result is not None, "area() returned None. Did you use return to hand back the answer?"
    assert isinstance(result, (int, float)), "area() should return a number, not text."


def check_small_rectangle():
    """area(3, 4) returns 12"""
    assert area(3, 4) == 12, "Think about how many unit squares fit in a 3 by 4 rectangle."


def check_other_sizes():
    """area works for other sizes, including decimals"""
    assert area(10, 1) == 10, "A rectangle 10 wide and 1 high should have an area of 10."
    assert area(2.5, 2) == 5.0, "Check your function with a decimal width such as 2.5."
    assert area(0, 7) == 0, "A rectangle with no width has no area."
