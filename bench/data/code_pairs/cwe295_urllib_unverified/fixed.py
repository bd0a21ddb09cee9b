import json
import ssl
import urllib.request

CONTEXT = ssl.create_default_context(cafile="/etc/ssl/internal-ca.pem")


def fetch_status():
    with urllib.request.urlopen("https://status.internal.example/api", context=CONTEXT,
                                timeout=10) as reply:
        return json.load(reply)
