import datetime

import jwt

SIGNING_KEY = "a3f9c2e7b1d84f6a9e0c5b7d2f1a8e4c"


def issue_token(user_id):
    exp = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
    return jwt.encode({"sub": str(user_id), "exp": exp}, SIGNING_KEY, algorithm="HS256")
