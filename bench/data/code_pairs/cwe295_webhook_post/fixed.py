import requests


def send(url, payload):
    return requests.post(url, json=payload, timeout=10)
