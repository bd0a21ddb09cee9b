from jinja2 import Environment, FileSystemLoader

env = Environment(loader=FileSystemLoader("templates/email"))


def render_welcome(user):
    return env.get_template("welcome.html").render(name=user.display_name)
