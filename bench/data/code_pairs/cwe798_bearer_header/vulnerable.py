import requests


def charge(amount):
    headers = {"Authorization": "Bearer sk_live_51HfQ2eLkdIwHu7ix"}
    return requests.post("https://api.pay.example/charges", json={"amount": amount},
                         headers=headers, timeout=10)
