import os


def archive(folder):
    # compress the folder the admin picked in the web form
    os.system("tar czf /tmp/logs.tgz " + folder)
