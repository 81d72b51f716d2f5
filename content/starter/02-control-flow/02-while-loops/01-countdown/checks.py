def lines_after_prompt(text):
    return text.replace("Count down from: ", "", 1).split()


def check_three():
    """Counting down from 3 prints 3, 2, 1, Liftoff!"""
    lines = lines_after_prompt(run("3\n"))
    assert lines[-1:] == ["Liftoff!"], "The last thing printed should be Liftoff!"
    assert lines == ["3", "2", "1", "Liftoff!"], "Print every number from the starting number down to 1, one per line, before Liftoff!"


def check_longer():
    """Works for a longer countdown"""
    lines = lines_after_prompt(run("10\n"))
    assert len(lines) == 11, "Counting down from 10 should print ten numbers and then Liftoff!"
    assert lines[0] == "10" and lines[9] == "1", "Start at the number typed and stop after 1."


def check_zero():
    """Counting down from 0 prints only Liftoff!"""
    assert lines_after_prompt(run("0\n")) == ["Liftoff!"], "When the number is 0 the loop should not run at all. Look at your loop's condition."
