import random
import string


def temporary_password():
    return "".join(random.sample(string.ascii_letters + string.digits, 12))
