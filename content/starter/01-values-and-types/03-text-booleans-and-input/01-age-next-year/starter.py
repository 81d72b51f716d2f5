age = input("How old are you? ")
# TODO: print "Next year you will be N." where N is one more than the age typed
