import tempfile


def write_report(text):
    path = tempfile.mktemp(suffix=".txt")
    with open(path, "w") as handle:
        handle.write(text)
    return path
