import os


def resolve(host):
    return os.popen("nslookup %s" % host).read()
