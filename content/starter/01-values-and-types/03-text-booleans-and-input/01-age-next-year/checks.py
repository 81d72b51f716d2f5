def check_asks():
    """Asks for the age with the right prompt"""
    assert run("41\n").startswith("How old are you? "), "Use input(\"How old are you? \") to ask for the age."


def check_forty_one():
    """Typing 41 prints: Next year you will be 42."""
    printed = run("41\n")
    assert "Next year you will be" in printed, "Print a sentence that starts with 'Next year you will be'."
    assert "Next year you will be 42." in printed, "The number should be one more than the age typed, followed by a full stop. Did you convert the input to a number?"


def check_other_age():
    """Works for another age"""
    assert "Next year you will be 8." in run("7\n"), "Try your program with the age 7: the sentence should end with the next age and a full stop."
