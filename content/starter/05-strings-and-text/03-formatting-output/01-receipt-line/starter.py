item = input("Item: ")
price = input("Price: ")
quantity = input("Quantity: ")
# TODO: convert price and quantity to numbers, then print the receipt line with an f-string
print(item)
