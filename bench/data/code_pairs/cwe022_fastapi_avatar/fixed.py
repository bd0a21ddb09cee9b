import os

from fastapi import FastAPI, HTTPException
from fastapi.responses import FileResponse

app = FastAPI()
AVATARS = os.path.realpath("/var/lib/app/avatars")


@app.get("/avatars/{name}")
def avatar(name: str):
    path = os.path.realpath(os.path.join(AVATARS, name))
    if os.path.commonpath([path, AVATARS]) != AVATARS:
        raise HTTPException(status_code=404)
    return FileResponse(path)
