import json


def read_profile(path_from_request):
    with open(path_from_request, encoding="utf-8") as handle:
        return json.load(handle)
