import requests


def send(url, payload):
    return requests.post(url, json=payload, verify=False, timeout=10)
