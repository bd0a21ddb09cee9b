import yaml


def read_config(path):
    with open(path) as handle:
        return yaml.safe_load(handle)
