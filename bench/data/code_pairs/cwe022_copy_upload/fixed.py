import shutil
from pathlib import Path

UPLOADS = Path("/srv/uploads").resolve()


def publish(filename, dest):
    source = (UPLOADS / filename).resolve()
    if not source.is_relative_to(UPLOADS):
        raise PermissionError(filename)
    shutil.copy(source, dest)
