import requests

session = requests.Session()


def sync_inventory(api, items):
    reply = session.put(f"{api}/inventory", json=items)
    reply.raise_for_status()
    return reply.json()
