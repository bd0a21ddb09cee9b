import urllib3


def pool():
    return urllib3.PoolManager(cert_reqs="CERT_NONE")
