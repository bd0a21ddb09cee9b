from markupsafe import Markup


def show_comment(comment: str) -> Markup:
    return Markup("<p>" + comment + "</p>")
