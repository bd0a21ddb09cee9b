import zipfile


def unpack(archive, target):
    with zipfile.ZipFile(archive) as zf:
        zf.extractall(target)
