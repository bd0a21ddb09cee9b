"""A deliberately vulnerable example for `bastion copilot scan-code` (never run or import it)."""

import hashlib
import subprocess

import requests
import yaml


def load_settings(path: str) -> dict:
    with open(path) as handle:
        return yaml.load(handle, Loader=yaml.Loader)  # runs arbitrary constructors


def fetch_report(url: str) -> str:
    return requests.get(url, verify=False, timeout=10).text  # no TLS check


def archive(name: str) -> None:
    subprocess.call(f"tar czf /tmp/{name}.tgz reports/", shell=True)  # shell injection


def fingerprint(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()  # weak hash
