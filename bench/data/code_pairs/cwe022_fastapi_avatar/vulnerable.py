import os

from fastapi import FastAPI
from fastapi.responses import FileResponse

app = FastAPI()
AVATARS = "/var/lib/app/avatars"


@app.get("/avatars/{name}")
def avatar(name: str):
    return FileResponse(os.path.join(AVATARS, name))
