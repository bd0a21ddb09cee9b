import subprocess


def checkout(repo_dir, branch):
    subprocess.run(["git", "-C", repo_dir, "checkout", "--", branch], check=True)
