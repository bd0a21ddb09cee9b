import secrets
import string

ALPHABET = string.ascii_letters + string.digits


def new_api_key():
    return "bk_" + "".join(secrets.choice(ALPHABET) for _ in range(32))
