from hashlib import sha256 as checksum


def verify_download(path, expected):
    with open(path, "rb") as fh:
        return checksum(fh.read()).hexdigest() == expected
