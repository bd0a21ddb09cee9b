import subprocess


def convert(src, width):
    cmd = "convert %s -resize %sx %s.small.png" % (src, width, src)
    return subprocess.check_output(cmd, shell=True)
