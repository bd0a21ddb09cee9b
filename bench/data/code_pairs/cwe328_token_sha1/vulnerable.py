import hashlib


def api_token_digest(token):
    return hashlib.sha1(token.encode("utf-8")).hexdigest()
