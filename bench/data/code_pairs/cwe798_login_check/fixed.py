import hmac
import os


def is_admin(username, password):
    expected = os.environ.get("ADMIN_PASSWORD", "")
    return username == "admin" and bool(expected) and hmac.compare_digest(password, expected)
