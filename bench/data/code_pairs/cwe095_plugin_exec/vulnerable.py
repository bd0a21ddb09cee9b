def run_hook(source_code: str, context: dict) -> None:
    exec(source_code, context)
