def greeting(name):
    # TODO: build the greeting and return it
    print("Hello")
