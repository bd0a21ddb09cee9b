"""The HTTP face of a :class:`~bastion.testing.ScriptedChatModel`: an OpenAI-compatible ASGI app.

Routes: ``GET /v1/models`` and ``POST /v1/chat/completions``, non-streamed or, with
``"stream": true``, as server-sent events ending in ``data: [DONE]``.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import anyio
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from bastion.testing._script import Outcome, ScriptedChatModel

CHUNK_CHARS = 12
"""Characters per streamed delta: small, so a client sees text split across chunks."""


def create_app(model: ScriptedChatModel) -> FastAPI:
    """An ASGI app that serves ``model`` like an OpenAI-compatible chat server."""
    app = FastAPI(title="Bastion scripted model", docs_url=None, redoc_url=None,
                  openapi_url=None)

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        return {"object": "list", "data": [
            {"id": model.model, "object": "model", "created": 0, "owned_by": "bastion-testing"},
        ]}

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            return _error(400, "request body is not JSON")
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            return _error(400, "'messages' must be a list")
        with model.in_flight():
            outcome = model.respond(body, dict(request.headers))
            if not await _delay(request, outcome.delay):
                return Response(status_code=499)  # the client left; nobody reads this
        if outcome.status != 200:
            return _error(outcome.status, outcome.content, outcome.headers)
        name = str(body.get("model") or model.model)
        if body.get("stream"):
            return StreamingResponse(_events(outcome, name), media_type="text/event-stream")
        return JSONResponse(_completion(outcome, name))

    return app


async def _delay(request: Request, seconds: float) -> bool:
    """Wait, as a slow model would; False when the client hangs up meanwhile."""
    deadline = anyio.current_time() + seconds
    while (left := deadline - anyio.current_time()) > 0:
        if await request.is_disconnected():
            return False
        await anyio.sleep(min(0.02, left))
    return True


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    kind = "rate_limit_error" if status == 429 else "invalid_request_error"
    if status >= 500:
        kind = "server_error"
    return JSONResponse({"error": {"message": message, "type": kind, "code": status}},
                        status_code=status, headers=headers)


def _completion(outcome: Outcome, name: str) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": outcome.content}
    if outcome.reasoning is not None:
        message["reasoning_content"] = outcome.reasoning
    return {
        "id": "chatcmpl-scripted", "object": "chat.completion", "created": int(time.time()),
        "model": name,
        "choices": [{"index": 0, "message": message, "finish_reason": outcome.finish_reason}],
        "usage": {"prompt_tokens": 0, "completion_tokens": len(outcome.content.split()),
                  "total_tokens": len(outcome.content.split())},
    }


async def _events(outcome: Outcome, name: str) -> AsyncIterator[str]:
    yield _frame(name, {"role": "assistant", "content": ""})
    for key, text in (("reasoning_content", outcome.reasoning or ""),
                      ("content", outcome.content)):
        for at in range(0, len(text), CHUNK_CHARS):
            yield _frame(name, {key: text[at:at + CHUNK_CHARS]})
    yield _frame(name, {}, outcome.finish_reason)
    yield "data: [DONE]\n\n"


def _frame(name: str, delta: dict[str, Any], finish_reason: str | None = None) -> str:
    chunk = {
        "id": "chatcmpl-scripted", "object": "chat.completion.chunk", "created": 0, "model": name,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    }
    return f"data: {json.dumps(chunk)}\n\n"
