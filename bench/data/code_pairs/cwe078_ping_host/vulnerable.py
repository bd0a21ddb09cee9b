import subprocess


def ping(host: str) -> str:
    """Ping a host the user typed."""
    result = subprocess.run(f"ping -c 1 {host}", shell=True, capture_output=True, text=True)
    return result.stdout
