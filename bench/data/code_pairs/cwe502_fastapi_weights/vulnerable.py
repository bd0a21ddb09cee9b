from pickle import load

from fastapi import FastAPI, UploadFile

app = FastAPI()


@app.post("/weights")
async def upload_weights(file: UploadFile):
    weights = load(file.file)
    return {"layers": len(weights)}
