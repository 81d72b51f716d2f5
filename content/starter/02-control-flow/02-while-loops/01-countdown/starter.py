start = int(input("Count down from: "))
number = start
# TODO: use a while loop to print number, then make it one smaller, until it reaches 1
print("Liftoff!")
