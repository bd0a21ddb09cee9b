import subprocess


def checkout(repo_dir, branch):
    subprocess.Popen("git -C {} checkout {}".format(repo_dir, branch), shell=True).wait()
