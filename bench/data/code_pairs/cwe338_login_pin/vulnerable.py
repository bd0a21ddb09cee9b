from random import randint


def issue_pin(store, phone):
    pin = f"{randint(0, 999999):06d}"
    store[phone] = pin
    return pin
