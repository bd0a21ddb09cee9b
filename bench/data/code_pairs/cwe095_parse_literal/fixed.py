import ast


def parse_setting(raw):
    # settings arrive as Python literals from the admin API
    return ast.literal_eval(raw)
