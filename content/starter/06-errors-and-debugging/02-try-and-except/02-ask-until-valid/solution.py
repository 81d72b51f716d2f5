while True:
    answer = input("Age: ")
    try:
        age = int(answer)
        break
    except ValueError:
        print("Please enter a whole number.")
print(f"Thanks! You are {age}.")
