import os

from github import Github

client = Github(os.environ["GITHUB_TOKEN"])


def open_issues(repo_name):
    return [issue.title for issue in client.get_repo(repo_name).get_issues(state="open")]
