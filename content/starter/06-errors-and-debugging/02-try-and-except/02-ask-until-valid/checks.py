def check_valid_first_time():
    """A valid age is accepted straight away"""
    printed = run("12\n")
    assert "Thanks! You are 12." in printed, "With valid input, print the thank-you line with the age."
    assert "Please enter" not in printed, "Don't complain when the input is valid."


def check_one_bad_answer():
    """After an invalid answer, it asks again"""
    try:
        printed = run("twelve\n12\n")
    except Exception:
        raise AssertionError("Your program stopped when given 'twelve'. Catch the ValueError from int() and ask again.")
    assert "Please enter a whole number." in printed, "After invalid input, print: Please enter a whole number."
    assert "Thanks! You are 12." in printed, "After asking again, accept the valid answer."


def check_several_bad_answers():
    """Keeps asking for as long as needed"""
    try:
        printed = run("x\n\n4.5\n30\n")
    except Exception:
        raise AssertionError("Your program should keep asking until it gets a whole number, however many tries that takes.")
    assert printed.count("Please enter a whole number.") == 3, "Print the message once for every invalid answer."
    assert printed.count("Age: ") == 4, "Ask with the prompt Age: each time."
    assert "Thanks! You are 30." in printed, "Finish with the thank-you line once a valid age is typed."
