import json


def read_cache(blob: bytes):
    return json.loads(blob.decode("utf-8"))
