import zipfile
from pathlib import Path


def unpack(archive, target):
    root = Path(target).resolve()
    with zipfile.ZipFile(archive) as zf:
        for member in zf.namelist():
            if not (root / member).resolve().is_relative_to(root):
                raise ValueError(f"unsafe path in archive: {member}")
        zf.extractall(root)
