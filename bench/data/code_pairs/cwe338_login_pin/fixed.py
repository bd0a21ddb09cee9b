from secrets import randbelow


def issue_pin(store, phone):
    pin = f"{randbelow(1_000_000):06d}"
    store[phone] = pin
    return pin
