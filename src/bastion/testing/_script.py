"""A scripted chat model: substring rules decide what an OpenAI-compatible server answers.

The model itself is plain Python with no I/O; :func:`bastion.testing.create_app` serves it over
HTTP. Each request is matched against the rules in the order they were added: the first rule
whose needle occurs in the last user message decides. Without a matching rule the model falls
back to :func:`fake_answer`, a deterministic keyword heuristic -- a fake for demos, not a
classifier.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

Mode = Literal[
    "plain", "fenced", "prose", "reasoning_field", "empty", "garbage", "truncated",
    "http_429", "http_500", "http_error",
]
"""How a reply is delivered.

``plain``: the answer as the message content. ``fenced``: inside a json code fence.
``prose``: with sentences before and after. ``reasoning_field``: the answer as content and a
chain of thought in ``reasoning_content``. ``empty``: empty content. ``garbage``: text that
holds no JSON. ``truncated``: half the answer, ``finish_reason: "length"``. ``http_429``,
``http_500``, ``http_error`` (with :attr:`Reply.status`): that HTTP error for the first
:attr:`Reply.failures` requests, then the answer as ``plain``.
"""

_HTTP_MODES = {"http_429": 429, "http_500": 500}
_ALARM = re.compile(r"\b(kill|murder|stab|shoot|bomb|attack|strangle|kidnap|tortur|poison|"
                    r"hurt|weapon)\w*", re.IGNORECASE)
_RULE_LINE = re.compile(r"\*\*([A-Z][A-Z0-9]{1,11}-[0-9]{1,3})\*\*[:.]?\s*(.*)")


@dataclass(frozen=True)
class Reply:
    """One scripted behaviour.

    Attributes:
        answer: a dict is sent as JSON, a string verbatim; ``None`` lets :func:`fake_answer`
            decide. For HTTP error modes it is the error message.
        mode: how the answer is delivered (see :data:`Mode`).
        delay: seconds to wait before answering.
        failures: for HTTP error modes, how many requests fail before the answer is sent;
            ``None`` fails forever.
        status: the HTTP status of ``http_error``.
        retry_after: the ``Retry-After`` header sent with HTTP errors, or ``None``.
    """

    answer: Mapping[str, Any] | str | None = None
    mode: Mode = "plain"
    delay: float = 0.0
    failures: int | None = 1
    status: int = 400
    retry_after: float | None = None


@dataclass(frozen=True)
class Outcome:
    """What the server sends for one request."""

    status: int
    content: str
    reasoning: str | None = None
    finish_reason: str = "stop"
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Seen:
    """One request the model received: its JSON body and its headers (lower-case names)."""

    body: dict[str, Any]
    headers: dict[str, str]


def json_answer(violation: bool, category: str | None = None, rule_ids: tuple[str, ...] = (),
                confidence: float = 0.9, rationale: str = "") -> dict[str, Any]:
    """An answer in the shape the ``llm`` tier asks for."""
    return {"violation": int(violation), "category": category, "rule_ids": list(rule_ids),
            "confidence": confidence, "rationale": rationale}


def fake_answer(system: str, user: str) -> str:
    """A deterministic, keyword-based fake answer, so demos look plausible.

    A request whose system message lists Bastion policy rules (``**VIO-1** ...``) is treated
    as a classification: an alarm word (kill, attack, poison ...) in the user message makes a
    violation of the rule that mentions it (else the first rule), otherwise the answer is safe.
    Any other request gets a short chat reply that echoes the user.
    """
    rules = _RULE_LINE.findall(system)
    if not rules:
        return f"(scripted model) You said: {user[:200]}"
    alarm = _ALARM.search(user)
    if alarm is None:
        return json.dumps(json_answer(False, None, (), 0.9, "Fake heuristic: no alarm word."))
    stem = alarm.group(1).lower()
    rule_id = next((rid for rid, text in rules if stem in text.lower()), rules[0][0])
    rationale = f'Fake heuristic: the content says "{alarm.group(0)}".'
    return json.dumps(json_answer(True, rule_id.rsplit("-", 1)[0], (rule_id,), 0.8, rationale))


class ScriptedChatModel:
    """A chat model whose answers are scripted by substring rules.

    Thread-safe: the server runs in its own thread while a test adds rules and reads
    :attr:`requests`.

    Args:
        rules: ``{needle: reply}``, tried in order.
        model: the model name ``GET /v1/models`` lists.
    """

    def __init__(self, rules: Mapping[str, Reply] | None = None, *,
                 model: str = "scripted") -> None:
        self.model = model
        self._rules: dict[str, Reply] = dict(rules or {})
        self._hits: dict[str, int] = {}
        self._seen: list[Seen] = []
        self._in_flight = 0
        self._max_in_flight = 0
        self._lock = threading.Lock()

    def script(self, needle: str, reply: Reply) -> None:
        """Add (or replace) the rule for ``needle``."""
        with self._lock:
            self._rules[needle] = reply
            self._hits.pop(needle, None)

    def clear(self) -> None:
        """Forget every rule, every recorded request and the in-flight high-water mark."""
        with self._lock:
            self._rules.clear()
            self._hits.clear()
            self._seen.clear()
            self._max_in_flight = 0

    @property
    def requests(self) -> list[Seen]:
        """The chat requests received so far, oldest first."""
        with self._lock:
            return list(self._seen)

    @property
    def max_in_flight(self) -> int:
        """The most requests handled at the same time since the last :meth:`clear`."""
        with self._lock:
            return self._max_in_flight

    @contextmanager
    def in_flight(self) -> Iterator[None]:
        """Count a request as in flight while the block runs."""
        with self._lock:
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)
        try:
            yield
        finally:
            with self._lock:
                self._in_flight -= 1

    def respond(self, body: dict[str, Any], headers: Mapping[str, str]) -> Outcome:
        """Record a request and decide what to send back."""
        system, user = _last_texts(body)
        with self._lock:
            self._seen.append(Seen(body, {k.lower(): v for k, v in headers.items()}))
            needle = next((n for n in self._rules if n in user), None)
            if needle is None:
                return Outcome(200, fake_answer(system, user))
            reply = self._rules[needle]
            hits = self._hits[needle] = self._hits.get(needle, 0) + 1
        answer = reply.answer
        if answer is None:
            answer = fake_answer(system, user)
        elif not isinstance(answer, str):
            answer = json.dumps(dict(answer))
        return _deliver(reply, answer, hits)


def _last_texts(body: dict[str, Any]) -> tuple[str, str]:
    """The joined system messages and the last user message of a chat request."""
    system: list[str] = []
    user = ""
    for message in body.get("messages") or []:
        text = _text(message.get("content")) if isinstance(message, dict) else ""
        role = message.get("role") if isinstance(message, dict) else None
        if role in ("system", "developer"):
            system.append(text)
        elif role == "user":
            user = text
    return "\n".join(system), user


def _text(content: object) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return ""


def _deliver(reply: Reply, answer: str, hits: int) -> Outcome:
    status = reply.status if reply.mode == "http_error" else _HTTP_MODES.get(reply.mode)
    if status is not None:
        if reply.failures is None or hits <= reply.failures:
            headers = {} if reply.retry_after is None else {"retry-after": f"{reply.retry_after}"}
            return Outcome(status, answer, delay=reply.delay, headers=headers)
        return Outcome(200, answer, delay=reply.delay)
    shaped = {
        "plain": answer,
        "fenced": f"```json\n{answer}\n```",
        "prose": f"Let me check the policy.\n{answer}\nThat is my answer.",
        "reasoning_field": answer,
        "empty": "",
        "garbage": "I think this is probably fine, but I am not sure.",
        "truncated": answer[: len(answer) // 2],
    }[reply.mode]
    return Outcome(
        200, shaped, delay=reply.delay,
        reasoning=("The user asks about the content. Checking each rule in turn {...}."
                   if reply.mode == "reasoning_field" else None),
        finish_reason="length" if reply.mode == "truncated" else "stop",
    )
