import datetime
import os

import jwt

SIGNING_KEY = os.environ["JWT_SIGNING_KEY"]


def issue_token(user_id):
    exp = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
    return jwt.encode({"sub": str(user_id), "exp": exp}, SIGNING_KEY, algorithm="HS256")
