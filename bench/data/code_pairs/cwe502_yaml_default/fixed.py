import yaml


def parse(document):
    return yaml.safe_load(document)
