import subprocess as sp


def resolve(host):
    out = sp.check_output(["nslookup", "--", host], text=True)
    return [line for line in out.splitlines() if line.startswith("Address")]
