import os
import tempfile


def save_upload(data: bytes) -> str:
    fd, path = tempfile.mkstemp(suffix=".bin")
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    return path
