def lock(user):
    handle = open(f"/tmp/{user}.lock", "w")
    handle.write("locked")
    return handle
