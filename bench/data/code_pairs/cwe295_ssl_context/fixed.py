import ssl
import urllib.request


def fetch(url):
    context = ssl.create_default_context()
    return urllib.request.urlopen(url, context=context).read()
