from hashlib import md5 as checksum


def verify_download(path, expected):
    with open(path, "rb") as fh:
        return checksum(fh.read()).hexdigest() == expected
