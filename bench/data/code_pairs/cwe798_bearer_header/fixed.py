import os

import requests


def charge(amount):
    headers = {"Authorization": f"Bearer {os.environ['PAY_API_KEY']}"}
    return requests.post("https://api.pay.example/charges", json={"amount": amount},
                         headers=headers, timeout=10)
