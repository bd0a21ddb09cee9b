import pickle


def load_model(upload):
    # the model file comes from the user's upload form
    with open(upload, "rb") as handle:
        return pickle.load(handle)
