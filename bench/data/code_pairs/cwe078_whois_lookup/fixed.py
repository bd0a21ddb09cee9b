import subprocess


def whois(domain):
    return subprocess.run(["whois", "--", domain], capture_output=True, text=True,
                          check=False).stdout
