start = int(input("Count down from: "))
number = start
while number >= 1:
    print(number)
    number -= 1
print("Liftoff!")
