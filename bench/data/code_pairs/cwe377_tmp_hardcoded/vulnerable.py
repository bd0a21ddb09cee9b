def save_upload(data: bytes) -> str:
    path = "/tmp/upload.bin"
    with open(path, "wb") as handle:
        handle.write(data)
    return path
