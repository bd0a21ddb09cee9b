"""A scripted OpenAI-compatible *upstream* for gateway tests: every route, every stream fault.

Where :class:`~bastion.testing.ScriptedChatModel` plays a classifier model, this plays the
model a gateway protects: ``/v1/chat/completions`` (``n`` choices, tool calls, streamed with
exact chunk boundaries, slow, broken or malformed streams), ``/v1/completions``,
``/v1/embeddings`` and ``/v1/models``. The first :class:`Turn` whose needle occurs in the
request's text decides the answer; every request body is recorded for assertions.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

CHUNK = 8


@dataclass(frozen=True)
class Turn:
    """One scripted answer.

    Attributes:
        content: the answer text (every choice gets it unless ``choices`` is set).
        choices: one text per choice, for ``n > 1`` answers.
        chunks: the exact streamed pieces of each choice's text (default: 8 characters each).
        tool_calls: ``(name, arguments)`` pairs the assistant calls.
        delay: seconds before the answer starts.
        chunk_delay: seconds between streamed chunks.
        break_after: streamed chunks sent before the connection is cut (no ``[DONE]``).
        malformed_after: streamed chunks sent before a frame that is not JSON.
        status: HTTP status (errors get an OpenAI-shaped body).
        echo: answer with the request's own text.
    """

    content: str = "Hello from the upstream model."
    choices: tuple[str, ...] | None = None
    chunks: tuple[str, ...] | None = None
    tool_calls: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0
    chunk_delay: float = 0.0
    break_after: int | None = None
    malformed_after: int | None = None
    status: int = 200
    echo: bool = False


@dataclass
class ScriptedUpstream:
    """The scripted model: rules, a default turn, and the requests it received (thread-safe)."""

    turns: dict[str, Turn] = field(default_factory=dict)
    default: Turn = field(default_factory=Turn)
    model: str = "scripted-upstream"
    requests: list[dict[str, Any]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def script(self, needle: str, turn: Turn) -> None:
        """Answer requests whose text holds ``needle`` with ``turn``."""
        with self._lock:
            self.turns[needle] = turn

    def clear(self) -> None:
        """Forget rules and recorded requests."""
        with self._lock:
            self.turns.clear()
            self.requests.clear()

    def seen_text(self) -> str:
        """Every recorded request body as one JSON text (to assert what never arrived)."""
        with self._lock:
            return "\n".join(json.dumps(b, ensure_ascii=False) for b in self.requests)

    def decide(self, body: dict[str, Any]) -> tuple[Turn, str]:
        """Record a request; the turn that answers it and the request's text."""
        text = json.dumps(body.get("messages") or body.get("prompt") or body.get("input"),
                          ensure_ascii=False)
        with self._lock:
            self.requests.append(body)
            turn = next((t for needle, t in self.turns.items() if needle in text), self.default)
        return turn, text


def _texts(turn: Turn, n: int, text: str) -> list[str]:
    if turn.choices is not None:
        return list(turn.choices)
    return [text if turn.echo else turn.content] * max(1, n)


def _pieces(turn: Turn, text: str) -> list[str]:
    if turn.chunks is not None:
        return list(turn.chunks)
    return [text[i:i + CHUNK] for i in range(0, len(text), CHUNK)]


def _chat_message(turn: Turn, text: str) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": text}
    if turn.tool_calls:
        message["tool_calls"] = [
            {"id": f"call_{i}", "type": "function", "function": {"name": n, "arguments": a}}
            for i, (n, a) in enumerate(turn.tool_calls)]
    return message


def _completion(route: str, turn: Turn, body: dict[str, Any], text: str) -> dict[str, Any]:
    texts = _texts(turn, int(body.get("n") or 1), text)
    if route == "chat":
        choices = [{"index": i, "message": _chat_message(turn, t), "finish_reason": "stop"}
                   for i, t in enumerate(texts)]
    else:
        choices = [{"index": i, "text": t, "finish_reason": "stop"} for i, t in enumerate(texts)]
    words = sum(len(t.split()) for t in texts)
    return {"id": "cmpl-up", "object": "chat.completion" if route == "chat" else
            "text_completion", "created": 0, "model": body.get("model", ""), "choices": choices,
            "usage": {"prompt_tokens": 1, "completion_tokens": words, "total_tokens": words + 1}}


def _frame(route: str, index: int, delta: dict[str, Any], finish: str | None = None) -> str:
    if route == "chat":
        choice: dict[str, Any] = {"index": index, "delta": delta, "finish_reason": finish}
    else:
        choice = {"index": index, "text": delta.get("content", ""), "finish_reason": finish}
    chunk = {"id": "cmpl-up", "object": "chunk", "created": 0, "model": "m",
             "choices": [choice]}
    return f"data: {json.dumps(chunk)}\n\n"


def _stream_frames(route: str, turn: Turn, body: dict[str, Any], text: str) -> list[str]:
    frames = []
    for index, choice_text in enumerate(_texts(turn, int(body.get("n") or 1), text)):
        if route == "chat":
            frames.append(_frame(route, index, {"role": "assistant", "content": ""}))
        frames.extend(_frame(route, index, {"content": p}) for p in _pieces(turn, choice_text))
        for at, (name, args) in enumerate(turn.tool_calls if route == "chat" else ()):
            frames.append(_frame(route, index, {"tool_calls": [
                {"index": at, "id": f"call_{at}", "type": "function",
                 "function": {"name": name, "arguments": ""}}]}))
            frames.extend(_frame(route, index, {"tool_calls": [
                {"index": at, "function": {"arguments": p}}]}) for p in _pieces(turn, args))
        frames.append(_frame(route, index, {}, "stop"))
    return frames


class _CutError(Exception):
    """Raised inside a stream to make the server drop the connection."""


async def _stream(route: str, turn: Turn, body: dict[str, Any], text: str) -> AsyncIterator[str]:
    for count, frame in enumerate(_stream_frames(route, turn, body, text)):
        if turn.break_after is not None and count >= turn.break_after:
            raise _CutError("scripted break")
        if turn.malformed_after is not None and count == turn.malformed_after:
            yield "data: {this is not json\n\n"
        yield frame
        if turn.chunk_delay:
            await anyio.sleep(turn.chunk_delay)
    yield "data: [DONE]\n\n"


def upstream_app(upstream: ScriptedUpstream) -> FastAPI:
    """The ASGI app that serves ``upstream``."""
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    async def generation(route: str, request: Request) -> Response:
        body = await request.json()
        turn, text = upstream.decide(body)
        if turn.delay:
            await anyio.sleep(turn.delay)
        if turn.status != 200:
            return JSONResponse({"error": {"message": "scripted failure", "type": "server_error",
                                           "code": turn.status}}, status_code=turn.status)
        if body.get("stream"):
            return StreamingResponse(_stream(route, turn, body, text),
                                     media_type="text/event-stream")
        return JSONResponse(_completion(route, turn, body, text))

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> Response:
        return await generation("chat", request)

    @app.post("/v1/completions")
    async def completions(request: Request) -> Response:
        return await generation("completions", request)

    @app.post("/v1/embeddings")
    async def embeddings(request: Request) -> Response:
        body = await request.json()
        upstream.decide(body)
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        return JSONResponse({"object": "list", "model": body.get("model", ""), "data": [
            {"object": "embedding", "index": i, "embedding": [0.1, 0.2, 0.3]}
            for i in range(len(inputs))], "usage": {"prompt_tokens": 1, "total_tokens": 1}})

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        return {"object": "list", "data": [
            {"id": name, "object": "model", "created": 0, "owned_by": "bastion-testing"}
            for name in (upstream.model, "other-model")]}

    return app


@contextmanager
def serve_app(app: Any, *, startup_timeout: float = 10.0) -> Iterator[str]:
    """Serve any ASGI app on 127.0.0.1 and a free port; yield its base URL (ending ``/v1``).

    Raises:
        RuntimeError: the server did not start in time.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_config=None, log_level="warning", access_log=False,
                            ws="none", timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True,
                              name=f"loopback-{port}")
    thread.start()
    deadline = time.monotonic() + startup_timeout
    try:
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"loopback server did not start within {startup_timeout}s")
            time.sleep(0.01)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        server.should_exit = True
        thread.join(timeout=startup_timeout)
        sock.close()
