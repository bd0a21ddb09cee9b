from jinja2 import Environment, FileSystemLoader, select_autoescape

env = Environment(loader=FileSystemLoader("templates/email"),
                  autoescape=select_autoescape(["html", "xml"]))


def render_welcome(user):
    return env.get_template("welcome.html").render(name=user.display_name)
