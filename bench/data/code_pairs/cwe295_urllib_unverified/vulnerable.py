import json
import ssl
import urllib.request

CONTEXT = ssl._create_unverified_context()


def fetch_status():
    with urllib.request.urlopen("https://status.internal.example/api", context=CONTEXT,
                                timeout=10) as reply:
        return json.load(reply)
