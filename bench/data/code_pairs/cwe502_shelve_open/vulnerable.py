import shelve


def read_profile(path_from_request):
    with shelve.open(path_from_request) as db:
        return dict(db)
