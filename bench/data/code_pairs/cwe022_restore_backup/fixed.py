import tarfile


def restore(archive_path, target_dir):
    with tarfile.open(archive_path, "r:gz") as archive:
        archive.extractall(target_dir, filter="data")
