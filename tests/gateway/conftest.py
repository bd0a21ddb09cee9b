"""Gateway fixtures: a scripted upstream and gateways on real loopback sockets."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from sqlalchemy.orm import Session, sessionmaker
from tests.services import fresh_database

from bastion.accounts import AccountStore
from bastion.classify import Verdict, register
from bastion.classify._fixed import FixedClassifier
from bastion.gateway import create_app, load_config
from bastion.monitor import AuditLog
from bastion.policy import Policy
from bastion.store import close_store, open_store
from bastion.testing import ScriptedUpstream, serve_app, upstream_app, wait_until


class SleepyClassifier(FixedClassifier):
    """The fixed tier, but texts holding ``SLEEP`` take two seconds (a hung backend)."""

    name = "sleepy"

    def _classify(self, texts: Sequence[str], policy: Policy) -> list[Verdict]:
        if any("SLEEP" in t for t in texts):
            time.sleep(2.0)
        return super()._classify(texts, policy)


register(SleepyClassifier)


class Utf8OnlyClassifier(FixedClassifier):
    """The fixed tier behind a backend that must encode each text as UTF-8 (as a tokenizer
    or a pattern engine does), so half a surrogate pair makes it fail."""

    name = "utf8-only"

    def _classify(self, texts: Sequence[str], policy: Policy) -> list[Verdict]:
        for text in texts:
            text.encode("utf-8")
        return super()._classify(texts, policy)


register(Utf8OnlyClassifier)


@pytest.fixture(autouse=True)
def _identity_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BASTION_IDENTITY_SECRET", "test-identity-secret")


@pytest.fixture(scope="session")
def upstream() -> Iterator[tuple[ScriptedUpstream, str]]:
    """One scripted upstream for the session (cleared by each test that scripts it)."""
    model = ScriptedUpstream()
    with serve_app(upstream_app(model)) as url:
        yield model, url


@dataclass
class Running:
    """A gateway on loopback with its database and a client factory."""

    url: str
    db: str
    app: Any
    sessions: sessionmaker[Session]

    @property
    def accounts(self) -> AccountStore:
        return AccountStore(self.sessions)

    @property
    def audit(self) -> AuditLog:
        return AuditLog(self.sessions)

    @property
    def root(self) -> str:
        """The server's base URL without ``/v1`` (for ``/metrics``)."""
        return self.url.removesuffix("/v1")

    def key(self, name: str, role: str = "user", **scopes: Any) -> str:
        store = self.accounts
        store.create_account(name, role, **{k: scopes.pop(k) for k in list(scopes)
                                            if k.startswith("engagement")})
        return store.create_key(name, **scopes)[1]

    def client(self, key: str | None = None, timeout: float = 10.0) -> httpx.Client:
        headers = {"authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    def wait_audit(self, count: int, timeout: float = 10.0) -> int:
        """Wait until ``count`` requests are audited (the writer stores them in batches);
        return how many are."""
        wait_until(lambda: self.audit.count("gateway.request") >= count, timeout=timeout,
                   what=f"{count} audited requests")
        return self.audit.count("gateway.request")


GatewayFactory = Callable[..., Running]


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    """The database every gateway of a test uses (tests override it to pin one)."""
    return str(request.param)


@pytest.fixture
def gateway_factory(tmp_path: Path, upstream: tuple[ScriptedUpstream, str], backend: str,
                    request: pytest.FixtureRequest) -> Iterator[GatewayFactory]:
    """Start gateways with settings overrides (dotted env-style keys); stopped after the test.

    Each gateway gets a fresh database of the test's backend unless ``db`` is given.
    """
    stack = ExitStack()
    counter = iter(range(100))
    server = request.getfixturevalue("postgres_url") if backend == "postgresql" else None

    def start(db: str | None = None, **overrides: Any) -> Running:
        if db is None:
            db = (fresh_database(server) if server else
                  f"sqlite:///{tmp_path}/gw{next(counter)}.db")
        environ = {"BASTION_GATEWAY__UPSTREAM__BASE_URL": upstream[1],
                   "BASTION_GATEWAY__DATABASE_URL": db,
                   "BASTION_GATEWAY__CLASSIFIER__TIER": "rules",
                   "BASTION_GATEWAY__STREAM__MAX_HOLD_S": "0.2",
                   # a generous check deadline: on a busy machine a check that misses the 2 s
                   # default fails closed (503 or a stopped stream), which is right for a
                   # gateway and a flake for a test of something else; the tests of deadlines
                   # set their own
                   "BASTION_GATEWAY__CLASSIFIER__TIMEOUT_S": "30"}
        for name, value in overrides.items():
            environ["BASTION_GATEWAY__" + name.upper()] = str(value)
        app = create_app(load_config(environ=environ))
        url = stack.enter_context(serve_app(app))
        sessions = open_store(db, migrate=False)
        stack.callback(close_store, sessions)
        return Running(url, db, app, sessions)

    upstream[0].clear()
    with stack:
        yield start


@pytest.fixture
def gw(gateway_factory: GatewayFactory) -> Running:
    """A gateway with default settings and the rules tier."""
    return gateway_factory()


def sse_frames(text: str) -> list[str]:
    """The ``data:`` payloads of an SSE body, in order."""
    return [line[6:] for line in text.split("\n") if line.startswith("data: ")]


def streamed_text(text: str) -> str:
    """All delta text a client would show from an SSE body."""
    out = []
    for data in sse_frames(text):
        if data == "[DONE]":
            continue
        chunk = json.loads(data)
        for choice in chunk.get("choices", []):
            delta = choice.get("delta") or {}
            out.append(choice.get("text") or delta.get("content") or "")
            out.extend(call.get("function", {}).get("arguments", "")
                       for call in delta.get("tool_calls") or [])
    return "".join(out)


@dataclass
class RawUpstream:
    """An upstream that answers exactly what a test sets: a JSON body or raw SSE frames.

    ``frames`` are the ``data:`` payloads of a streamed answer (an object with a ``type`` gets
    its ``event:`` line, as Responses API events do; ``[DONE]`` is appended unless ``done`` is
    false); ``status`` applies to the JSON answer, and ``text`` replaces it as written (JSON
    escapes kept).
    """

    body: Any = None
    text: str | None = None
    frames: list[Any] = field(default_factory=list)
    status: int = 200
    done: bool = True
    frame_delay: float = 0.0
    stream_type: str = "text/event-stream"
    requests: list[dict[str, Any]] = field(default_factory=list)

    async def _paced(self, frames: list[str]) -> Any:
        for frame in frames:
            yield frame
            if self.frame_delay:
                await asyncio.sleep(self.frame_delay)

    def app(self) -> Any:
        app = FastAPI()

        async def answer(request: Request) -> Response:
            body = await request.json()
            self.requests.append(body)
            if body.get("stream"):
                frames = [(f"event: {f['type']}\n" if isinstance(f, dict) and "type" in f
                           else "") + "data: " + (f if isinstance(f, str) else json.dumps(f))
                          for f in self.frames]
                frames += ["data: [DONE]"] if self.done else []
                return StreamingResponse(self._paced([f"{f}\n\n" for f in frames]),
                                         media_type=self.stream_type)
            if self.text is not None:
                return Response(self.text, status_code=self.status,
                                media_type="application/json")
            return JSONResponse(self.body, status_code=self.status)

        app.add_api_route("/v1/chat/completions", answer, methods=["POST"])
        app.add_api_route("/v1/completions", answer, methods=["POST"])
        app.add_api_route("/v1/responses", answer, methods=["POST"])
        app.add_api_route("/v1/embeddings", answer, methods=["POST"])
        return app


@pytest.fixture
def raw_gw(gateway_factory: GatewayFactory) -> Iterator[tuple[RawUpstream, Running]]:
    """A gateway in front of a :class:`RawUpstream`."""
    raw = RawUpstream()
    with serve_app(raw.app()) as url:
        yield raw, gateway_factory(upstream__base_url=url)
