import tarfile


def archive(folder):
    # compress the folder the admin picked in the web form
    with tarfile.open("/var/backups/logs.tgz", "w:gz") as tar:
        tar.add(folder)
