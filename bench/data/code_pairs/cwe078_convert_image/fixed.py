import subprocess


def convert(src, width):
    cmd = ["convert", src, "-resize", f"{int(width)}x", f"{src}.small.png"]
    return subprocess.check_output(cmd)
