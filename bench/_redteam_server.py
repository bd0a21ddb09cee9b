"""The vulnerable scripted target behind an OpenAI-compatible HTTP endpoint, with latency.

Used by the red-team benchmarks so Bastion and garak attack the very same server. It runs in
its own process (so neither client competes with it for the GIL); ``GET /stats`` returns the
request count and the peak number of requests in flight.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from bastion.redteam import Message
from bastion.redteam.targets._vulnerable import VulnerableTarget


def create_app(latency: float) -> tuple[FastAPI, dict[str, int]]:
    """The app and a request counter."""
    app = FastAPI()
    # The rules tier keeps the fake's own work small: this server shares the process (and the
    # GIL) with the campaign it answers, and its cost is not Bastion's.
    target = VulnerableTarget(safety_tier="rules")
    target.answer([Message("user", "warm-up")])  # load its safety filter before any timing
    stats = {"requests": 0, "in_flight": 0, "peak": 0}

    @app.post("/v1/chat/completions")
    async def chat(body: dict[str, Any]) -> dict[str, Any]:
        stats["requests"] += 1
        stats["in_flight"] += 1
        stats["peak"] = max(stats["peak"], stats["in_flight"])
        await asyncio.sleep(latency)
        stats["in_flight"] -= 1
        messages = [Message(m.get("role", "user"), _text(m.get("content")))
                    for m in body.get("messages", [])
                    if m.get("role") in ("system", "user", "assistant", "tool")]
        text = target.answer(messages)
        return {"id": "x", "object": "chat.completion", "created": int(time.time()),
                "model": body.get("model", "vulnerable"),
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": text}}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}

    @app.get("/stats")
    async def get_stats() -> dict[str, int]:
        return dict(stats)

    @app.post("/stats/reset")
    async def reset() -> dict[str, int]:
        before = dict(stats)
        stats.update(requests=0, peak=0)
        return before

    return app, stats


def _text(content: object) -> str:
    if isinstance(content, list):
        return "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return str(content or "")


@contextmanager
def serve(latency: float = 0.1) -> Iterator[str]:
    """Serve in a child process on a free loopback port; yields the base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    child = subprocess.Popen([sys.executable, __file__, str(port), str(latency)])
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                httpx.get(f"{url}/stats", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.05)
        yield f"{url}/v1"
    finally:
        child.terminate()
        child.wait(10)


def stats(base_url: str, reset: bool = False) -> dict[str, int]:
    """The server's counters (reset them with ``reset=True``)."""
    root = base_url.removesuffix("/v1")
    if reset:
        return dict(httpx.post(f"{root}/stats/reset").json())
    return dict(httpx.get(f"{root}/stats").json())


if __name__ == "__main__":
    app, _ = create_app(float(sys.argv[2]))
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning",
                access_log=False)
