import json


def load_model(upload):
    # the model file comes from the user's upload form: weights as plain JSON numbers
    with open(upload, "rb") as handle:
        return json.load(handle)
