import requests


def session():
    s = requests.Session()
    s.verify = False
    return s
