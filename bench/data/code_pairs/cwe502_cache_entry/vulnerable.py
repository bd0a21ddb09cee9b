import marshal


def read_cache(blob: bytes):
    return marshal.loads(blob)
