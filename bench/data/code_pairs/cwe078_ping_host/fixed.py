import subprocess


def ping(host: str) -> str:
    """Ping a host the user typed."""
    result = subprocess.run(["ping", "-c", "1", host], capture_output=True, text=True,
                            check=False)
    return result.stdout
