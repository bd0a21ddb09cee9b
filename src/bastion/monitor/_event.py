"""Monitoring events: one per classifier check (or per request that ran none).

The gateway writes one ``gateway.request`` audit event per request; :func:`events_from_request`
turns it into monitoring events, one per check, so a request checked on input and output counts
twice (once per direction). A recorded stream is JSON Lines, one :meth:`MonitorEvent.to_json`
object a line, oldest first (:func:`read_jsonl`, :func:`write_jsonl`).

Events never hold a key (only the key's public id; keys are stored hashed) and hold a text sample
only when the gateway's settings keep redacted content (``audit.content: redact``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from bastion.errors import InputError

SAMPLE_CHARS = 500
"""The longest text sample an event keeps."""

BLOCKING = frozenset({"block"})
FAILING = frozenset({"error", "fail_open"})


@dataclass(frozen=True)
class MonitorEvent:
    """One classifier verdict or gateway decision.

    Attributes:
        at: when it happened, epoch seconds (UTC).
        request_id: the gateway request it belongs to (``req_...``).
        account_id: the caller's account, ``None`` when unauthenticated.
        key_id: the public id of the API key used (never the key; keys are stored hashed).
        model: the model asked for.
        route: ``chat``, ``completions``, ``embeddings``, ``moderations``, ``responses``...
        direction: ``input``, ``output``, or ``request`` when no check ran.
        policy_id: the policy checked against.
        policy_version: its version.
        categories: the category codes violated (sorted).
        decision: ``pass``, ``flag``, ``redact``, ``block``, ``error``, ``fail_open``, or for a
            request without checks, ``refused`` / ``allowed``.
        tier: the classifier tier that decided.
        latency_ms: time the check took (the whole request for ``request`` events).
        error: the classifier failed.
        fail_open: it failed and the route let the text through.
        sample: a redacted text sample, only where the settings keep redacted content.
    """

    at: float
    request_id: str
    account_id: str | None = None
    key_id: str | None = None
    model: str | None = None
    route: str = "chat"
    direction: str = "input"
    policy_id: str | None = None
    policy_version: str | None = None
    categories: tuple[str, ...] = ()
    decision: str = "pass"
    tier: str | None = None
    latency_ms: float = 0.0
    error: bool = False
    fail_open: bool = False
    sample: str | None = None

    @property
    def blocked(self) -> bool:
        """True when the check blocked the text."""
        return self.decision in BLOCKING

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (categories as a list)."""
        data = asdict(self)
        data["categories"] = list(self.categories)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any], *, where: str = "event") -> MonitorEvent:
        """The event in ``data`` (as :meth:`to_json` writes it).

        Raises:
            InputError: a required field is missing, a field is unknown, or a value has the
                wrong type.
        """
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InputError(f"{where}: unknown field(s) {unknown}; known fields are "
                             f"{sorted(known)}")
        for name in ("at", "request_id"):
            if name not in data:
                raise InputError(f"{where}: field {name!r} is missing; every event needs 'at' "
                                 "(epoch seconds) and 'request_id'")
        values = dict(data)
        try:
            values["at"] = float(values["at"])
            values["latency_ms"] = float(values.get("latency_ms", 0.0))
            values["categories"] = tuple(str(c) for c in values.get("categories") or ())
        except (TypeError, ValueError) as exc:
            raise InputError(f"{where}: {exc}; 'at' and 'latency_ms' must be numbers and "
                             "'categories' a list of codes") from exc
        return cls(**values)


def _sample(body: Mapping[str, Any]) -> str | None:
    """The kept text the violation was about (``content_violating``), else the last one (the
    newest message): never a shared system prompt that would make every account look alike."""
    content = body.get("content")
    if not isinstance(content, list) or not content:
        return None
    index = body.get("content_violating")
    if not isinstance(index, int) or not 0 <= index < len(content):
        index = len(content) - 1
    return str(content[index])[:SAMPLE_CHARS]


def events_from_request(body: Mapping[str, Any], at: float, *,
                        samples: bool = False) -> list[MonitorEvent]:
    """The monitoring events of one ``gateway.request`` audit event, one per check.

    Args:
        body: the audit event.
        at: when the request ended (epoch seconds), unless the body says (``ended_at``).
        samples: keep the request's ``content`` as the input events' sample; pass True only
            when that content is redacted text (the gateway's ``audit.content: redact``),
            never hashes or raw text.
    """
    common: dict[str, Any] = {
        "at": float(body.get("ended_at") or at), "request_id": str(body.get("request_id") or ""),
        "account_id": body.get("account_id"), "key_id": body.get("key_id"),
        "model": body.get("model"), "route": str(body.get("route") or ""),
    }
    checks = [c for c in body.get("checks") or () if isinstance(c, Mapping)]
    if not checks:
        decision = "refused" if int(body.get("status") or 200) >= 400 else "allowed"
        return [MonitorEvent(**common, direction="request", decision=decision,
                             latency_ms=float(body.get("latency_ms") or 0.0))]
    sample = _sample(body) if samples else None
    out = []
    for check in checks:
        policy = check.get("policy") or {}
        outcome = str(check.get("outcome") or "pass")
        tiers = check.get("tiers") or ()
        out.append(MonitorEvent(
            **common, direction=str(check.get("direction") or "input"),
            policy_id=policy.get("id"), policy_version=_text(policy.get("version")),
            categories=tuple(sorted(check.get("categories") or ())), decision=outcome,
            tier=str(tiers[-1]) if tiers else None,
            latency_ms=float(check.get("latency_ms") or 0.0),
            error=bool(check.get("errors")) or outcome in FAILING,
            fail_open=outcome == "fail_open",
            sample=sample if check.get("direction") == "input" else None))
    return out


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def read_jsonl(path: str | Path) -> Iterator[MonitorEvent]:
    """Events from a JSON Lines file, in file order (blank lines skipped).

    Raises:
        InputError: the file cannot be read, or a line is not a valid event (its number named).
    """
    try:
        handle = Path(path).open(encoding="utf-8")  # noqa: SIM115 - closed by the with below
    except OSError as exc:
        raise InputError(f"cannot read events file {str(path)!r}: {exc.strerror}") from exc
    with handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                data = json.loads(line)
            except ValueError as exc:
                raise InputError(f"{where}: not JSON ({exc}); write one event object per "
                                 "line") from exc
            if not isinstance(data, dict):
                raise InputError(f"{where}: expected a JSON object, got "
                                 f"{type(data).__name__}")
            yield MonitorEvent.from_json(data, where=where)


def write_jsonl(events: Iterable[MonitorEvent], path: str | Path) -> int:
    """Write events as JSON Lines; returns how many."""
    count = 0
    with Path(path).open("w", encoding="utf-8") as handle:
        for event in events:
            handle.write(json.dumps(event.to_json(), separators=(",", ":")) + "\n")
            count += 1
    return count
