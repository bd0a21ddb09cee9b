def is_admin(username, password):
    if username == "admin" and password == "letmein123":
        return True
    return False
