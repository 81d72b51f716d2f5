age = int(input("How old are you? "))
print("Next year you will be " + str(age + 1) + ".")
