import os

BASE = "/srv/files"


def read_file(name):
    with open(os.path.join(BASE, name), "rb") as handle:
        return handle.read()
