HOOKS = {"lower": str.lower, "upper": str.upper}


def run_hook(name: str, context: dict) -> None:
    context["result"] = HOOKS[name](context["value"])
