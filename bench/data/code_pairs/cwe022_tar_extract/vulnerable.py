import tarfile


def restore(backup_path, dest):
    with tarfile.open(backup_path) as tar:
        tar.extractall(dest)
