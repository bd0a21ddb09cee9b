from github import Github

client = Github("ghp_Q8r2LmZx7TnWk4Vb9Ys1Hd6Jf3Pc0Ae5Ug")


def open_issues(repo_name):
    return [issue.title for issue in client.get_repo(repo_name).get_issues(state="open")]
