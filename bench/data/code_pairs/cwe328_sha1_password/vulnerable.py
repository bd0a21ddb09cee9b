import hashlib
import os


def hash_password(password: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.sha1(salt + password.encode()).hexdigest()
    return salt.hex() + "$" + digest
