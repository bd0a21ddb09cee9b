import httpx


def client() -> httpx.Client:
    return httpx.Client(timeout=5.0)
