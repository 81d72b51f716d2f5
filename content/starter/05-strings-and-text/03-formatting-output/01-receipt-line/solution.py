item = input("Item: ")
price = float(input("Price: "))
quantity = int(input("Quantity: "))
total = price * quantity
print(f"{quantity} x {item} @ {price:.2f} = {total:.2f}")
