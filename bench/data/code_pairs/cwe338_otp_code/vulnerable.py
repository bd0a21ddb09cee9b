import random


def one_time_code() -> str:
    return str(random.randint(100000, 999999))
