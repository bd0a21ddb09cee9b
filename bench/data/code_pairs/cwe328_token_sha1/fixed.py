import hashlib


def api_token_digest(token):
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
