import json


def save_draft(username, draft):
    path = f"/tmp/{username}-draft.json"
    with open(path, "w") as fh:
        json.dump(draft, fh)
    return path
