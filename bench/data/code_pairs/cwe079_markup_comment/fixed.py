from markupsafe import Markup, escape


def show_comment(comment: str) -> Markup:
    return Markup("<p>{}</p>").format(escape(comment))
