import os
import shutil

UPLOADS = "/srv/uploads"


def publish(filename, dest):
    shutil.copy(os.path.join(UPLOADS, filename), dest)
