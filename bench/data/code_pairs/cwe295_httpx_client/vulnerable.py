import httpx


def client() -> httpx.Client:
    return httpx.Client(verify=False, timeout=5.0)
