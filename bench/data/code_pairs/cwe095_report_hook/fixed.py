HOOKS = {
    "upper_name": lambda record: {**record, "name": record["name"].upper()},
    "drop_email": lambda record: {k: v for k, v in record.items() if k != "email"},
}


def run_hook(config, record):
    hook = HOOKS.get(config["on_record"])
    if hook is None:
        raise ValueError(f"unknown hook {config['on_record']!r}")
    return hook(record)
