from pathlib import Path

BASE = Path("/srv/files").resolve()


def read_file(name):
    path = (BASE / name).resolve()
    if not path.is_relative_to(BASE):
        raise PermissionError(name)
    return path.read_bytes()
