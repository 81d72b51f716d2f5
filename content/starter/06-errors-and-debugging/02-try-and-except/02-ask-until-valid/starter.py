age = int(input("Age: "))
# TODO: keep asking while the input is not a whole number
print(f"Thanks! You are {age}.")
