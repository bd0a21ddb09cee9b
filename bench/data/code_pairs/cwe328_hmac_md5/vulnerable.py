import hashlib
import hmac


def sign(key: bytes, message: bytes) -> str:
    return hmac.new(key, message, hashlib.md5).hexdigest()
