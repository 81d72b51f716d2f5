def letter_grade(score):
    if score >= 90:
        return "A"
    # TODO: add the other grades with elif and else
