import os
import sys


def main():
    name, folder = sys.argv[1], sys.argv[2]
    status = os.system("tar czf /backups/%s.tgz %s" % (name, folder))
    sys.exit(status)


if __name__ == "__main__":
    main()
