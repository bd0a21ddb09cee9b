def parse_setting(raw):
    # settings arrive as Python literals from the admin API
    return eval(raw, {"__builtins__": {}})
