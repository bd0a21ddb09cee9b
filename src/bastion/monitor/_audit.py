"""The audit log: append-only, hash-chained events that a command can verify.

Every event body is canonical JSON (sorted keys, no spaces, ASCII). Its hash is
``sha256(prev_hash + body)``, so editing, inserting or deleting any event breaks the chain at
that point; the ``audit_head`` row names the last event, so deleting the newest events is
caught too. Writers serialise on the head row (a row lock in PostgreSQL, the write lock in
SQLite), so several gateway workers can share one chain.

Callers must never put secrets in an event: the gateway records key *ids*, never keys, and
drops or redacts content according to its settings.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from bastion.store import AuditEvent, AuditHead, utcnow

GENESIS = "0" * 64


def canonical(data: dict[str, Any]) -> str:
    """Canonical JSON: sorted keys, compact, ASCII-only."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                      default=str)


def chain_hash(prev_hash: str, body: str) -> str:
    """The hash of an event given the previous event's hash."""
    return hashlib.sha256((prev_hash + body).encode("ascii")).hexdigest()


@dataclass(frozen=True)
class Problem:
    """One break in the chain: where, and what is wrong."""

    seq: int
    message: str


@dataclass(frozen=True)
class VerifyReport:
    """The outcome of :meth:`AuditLog.verify`."""

    events: int
    head_seq: int
    problems: tuple[Problem, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        """True when the chain is whole."""
        return not self.problems


class AuditLog:
    """Appends events to the chain and verifies it.

    Lifetime: one per process, sharing the store's session factory. Thread-safe: each call
    opens its own session. Failure: database errors propagate (SQLAlchemy exceptions); the
    :class:`~bastion.monitor.AuditWriter` retries them so no event is lost.
    """

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def append(self, events: Sequence[dict[str, Any]]) -> int:
        """Append events (each needs a ``type``) in one transaction; returns the last seq."""
        with self.sessions.begin() as session:
            return self.append_in(session, events)

    def append_in(self, session: Session, events: Sequence[dict[str, Any]]) -> int:
        """Append events inside the caller's transaction (committed with it)."""
        # The no-op update takes the write lock first (SQLite) / locks the row (PostgreSQL),
        # so concurrent writers queue here instead of forking the chain.
        session.execute(update(AuditHead).where(AuditHead.id == 1)
                        .values(seq=AuditHead.seq))
        head = session.execute(select(AuditHead).where(AuditHead.id == 1)).scalar_one()
        seq, prev = head.seq, head.hash
        for event in events:
            seq += 1
            row = _row(seq, prev, event)
            session.add(row)
            prev = row.hash
        head.seq, head.hash = seq, prev
        session.flush()
        return seq

    def events(self, *, after: int = 0, limit: int | None = None) -> list[dict[str, Any]]:
        """Event bodies (decoded), oldest first, with ``seq`` greater than ``after``."""
        with self.sessions() as session:
            query = select(AuditEvent.body).where(AuditEvent.seq > after).order_by(AuditEvent.seq)
            if limit is not None:
                query = query.limit(limit)
            return [json.loads(body) for body in session.execute(query).scalars()]

    def count(self, type_: str | None = None) -> int:
        """How many events there are (of one type, if given)."""
        query = select(func.count()).select_from(AuditEvent)
        if type_ is not None:
            query = query.where(AuditEvent.type == type_)
        with self.sessions() as session:
            return int(session.execute(query).scalar_one())

    def verify(self) -> VerifyReport:
        """Walk the chain from the first event and report every break."""
        with self.sessions() as session:
            head = session.execute(select(AuditHead).where(AuditHead.id == 1)).scalar_one()
            rows = session.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars()
            problems, count, last = _walk(rows)
        if last != (head.seq, head.hash):
            problems.append(Problem(head.seq, f"the head names event {head.seq} but the chain "
                                    f"ends at event {last[0]}: events were removed or the "
                                    "head was edited"))
        return VerifyReport(count, head.seq, tuple(problems))


def _row(seq: int, prev: str, event: dict[str, Any]) -> AuditEvent:
    at: datetime = utcnow()
    data = {**event, "seq": seq, "at": at.isoformat()}
    body = canonical(data)
    return AuditEvent(seq=seq, at=at, type=str(event["type"]),
                      request_id=event.get("request_id"), account_id=event.get("account_id"),
                      body=body, prev_hash=prev, hash=chain_hash(prev, body))


def _walk(rows: Iterator[AuditEvent]) -> tuple[list[Problem], int, tuple[int, str]]:
    problems: list[Problem] = []
    expected_seq, prev, count = 1, GENESIS, 0
    for row in rows:
        count += 1
        if row.seq != expected_seq:
            problems.append(Problem(row.seq, f"events {expected_seq}..{row.seq - 1} are "
                                    "missing"))
        if row.prev_hash != prev:
            problems.append(Problem(row.seq, "prev_hash does not match the previous event"))
        if chain_hash(row.prev_hash, row.body) != row.hash:
            problems.append(Problem(row.seq, "the body was edited (hash mismatch)"))
        problems.extend(_columns_match(row))
        expected_seq, prev = row.seq + 1, row.hash
    return problems, count, (expected_seq - 1, prev)


def _columns_match(row: AuditEvent) -> list[Problem]:
    try:
        body = json.loads(row.body)
    except ValueError:
        return [Problem(row.seq, "the body is not JSON")]
    wanted = {"seq": row.seq, "type": row.type, "request_id": row.request_id,
              "account_id": row.account_id}
    wrong = [name for name, value in wanted.items() if body.get(name) != value]
    return [Problem(row.seq, f"column(s) {wrong} differ from the hashed body")] if wrong else []
