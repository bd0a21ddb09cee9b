import json
import os
import tempfile


def save_draft(username, draft):
    fd, path = tempfile.mkstemp(prefix="draft-", suffix=".json")
    with os.fdopen(fd, "w") as fh:
        json.dump(draft, fh)
    return path
