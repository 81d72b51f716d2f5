def check_top_grade():
    """90 and above is an A"""
    assert letter_grade(95) == "A", "A score of 95 should be an A."
    assert letter_grade(90) == "A", "Exactly 90 should still be an A. Check >= versus >."


def check_middle_grades():
    """80s are B, 70s are C, 60s are D"""
    assert letter_grade(85) == "B", "A score in the 80s should be a B."
    assert letter_grade(70) == "C", "Exactly 70 is the lowest C."
    assert letter_grade(69) == "D", "69 falls just below the C range."


def check_failing():
    """Below 60 is an F"""
    assert letter_grade(59) == "F", "Scores under 60 need an answer too. What does your function return when no condition matches?"
    assert letter_grade(0) == "F", "Even a score of 0 should get a letter."
