import httpx
from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI()


class Hook(BaseModel):
    target: str


@app.post("/webhooks/test")
async def test_webhook(hook: Hook):
    async with httpx.AsyncClient(timeout=5) as client:
        reply = await client.post(hook.target, json={"event": "ping"})
    return {"status": reply.status_code}
