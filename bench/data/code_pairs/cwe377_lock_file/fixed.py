import tempfile


def lock(user):
    handle = tempfile.NamedTemporaryFile("w", prefix=f"{user}-", suffix=".lock", delete=False)
    handle.write("locked")
    return handle
