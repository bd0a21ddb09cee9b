def load_handler(module_name, source):
    code = compile(source, module_name, "exec")
    namespace = {}
    exec(code, namespace)
    return namespace["handler"]
