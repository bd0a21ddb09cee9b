import yaml


def parse(document):
    return yaml.load(document)
