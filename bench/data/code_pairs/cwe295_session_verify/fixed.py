import requests


def session():
    return requests.Session()
