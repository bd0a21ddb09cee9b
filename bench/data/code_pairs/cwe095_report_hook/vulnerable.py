def run_hook(config, record):
    namespace = {"record": record}
    exec(config["on_record"], namespace)
    return namespace.get("result")
