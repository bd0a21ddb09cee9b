from jinja2 import Environment, FileSystemLoader

env = Environment(loader=FileSystemLoader("templates"))


def render(name, **context):
    return env.get_template(name).render(**context)
