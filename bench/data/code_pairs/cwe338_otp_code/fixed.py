import secrets


def one_time_code() -> str:
    return str(secrets.randbelow(900000) + 100000)
