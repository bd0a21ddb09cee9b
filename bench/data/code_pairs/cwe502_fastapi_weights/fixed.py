import json

from fastapi import FastAPI, UploadFile

app = FastAPI()


@app.post("/weights")
async def upload_weights(file: UploadFile):
    weights = json.load(file.file)
    return {"layers": len(weights)}
