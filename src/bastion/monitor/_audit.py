"""The audit log: append-only, hash-chained events that a command can verify.

Every event body is canonical JSON (sorted keys, no spaces, ASCII). Its hash is
``sha256(prev_hash + body)``, so editing, inserting or deleting any event breaks the chain at
that point; the ``audit_head`` row names the last event, so deleting the newest events is
caught too. The indexed columns (``seq``, ``at``, ``type``, ``request_id``, ``account_id``)
are copies of fields of the hashed body, and verify checks each against it. Writers serialise
on the head row (a row lock in PostgreSQL, the write lock in SQLite), so several gateway
workers can share one chain.

A hash chain alone does not stop someone who can write to the database: they can recompute
every hash after an edit and move the head. So the chain is keyed and anchored outside the
database (see :mod:`bastion.monitor._anchor`): with the audit key each event and the head carry
an HMAC, and checkpoints go to an append-only anchor file; :meth:`AuditLog.verify` checks both.

Callers must never put secrets in an event: the gateway records key *ids*, never keys, and
drops or redacts content according to its settings.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import String, func, select, type_coerce, update
from sqlalchemy.orm import Session, sessionmaker

from bastion.errors import ConfigError
from bastion.monitor._anchor import ANCHOR_ENV, KEY_ENV, FileAnchor, audit_key, mac
from bastion.store import AuditEvent, AuditHead, utcnow

logger = logging.getLogger("bastion.monitor.audit")

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
    keyed: bool = False
    checkpoints: int = 0

    @property
    def ok(self) -> bool:
        """True when the chain is whole."""
        return not self.problems


class AuditLog:
    """Appends events to the chain and verifies it.

    Lifetime: one per process, sharing the store's session factory. Thread-safe: each call
    opens its own session. Failure: database errors propagate (SQLAlchemy exceptions); the
    :class:`~bastion.monitor.AuditWriter` retries them so no event is lost. A checkpoint that
    cannot be written is logged at error level and retried with the next one.

    Args:
        sessions: the store's session factory.
        key: the audit key; every event and the head get an HMAC under it.
        anchor: where checkpoints go (an append-only file outside the database).
        anchor_every_s: the least time between checkpoints while events keep coming
            (:meth:`checkpoint` writes the latest one at once, e.g. when the writer is idle).
        refuse_unfit: refuse to write (ConfigError, the caller's transaction rolled back)
            when the key does not fit the chain (:meth:`key_problem`), as the CLI and the web
            app do; otherwise write and log an error once (the gateway, which checks at
            start-up, so that an abuse suspension never fails on the log's settings).
    """

    def __init__(self, sessions: sessionmaker[Session], *, key: bytes | None = None,
                 anchor: FileAnchor | None = None, anchor_every_s: float = 1.0,
                 refuse_unfit: bool = False) -> None:
        self.sessions = sessions
        self.key = key
        self.anchor = anchor
        self.anchor_every_s = anchor_every_s
        self._pending: tuple[int, str] | None = None
        self._anchored_at = 0.0
        self.refuse_unfit = refuse_unfit
        self._warned_unfit = False

    @classmethod
    def from_env(cls, sessions: sessionmaker[Session]) -> AuditLog:
        """A log keyed by ``$BASTION_AUDIT_KEY`` and anchored at ``$BASTION_AUDIT_ANCHOR``."""
        key = audit_key(KEY_ENV)
        path = os.environ.get(ANCHOR_ENV)
        return cls(sessions, key=key, anchor=FileAnchor(path, key) if path else None,
                   refuse_unfit=True)

    def check_key(self, env: str = KEY_ENV) -> None:
        """Refuse, before any action, a writer whose key does not fit the chain (see
        :meth:`key_problem`); for a process that writes for a long time (the gateway, the web
        app), at start-up.

        Raises:
            ConfigError: naming ``env``, the variable to set.
        """
        with self.sessions() as session:
            head = session.execute(select(AuditHead).where(AuditHead.id == 1)).scalar_one_or_none()
        problem = self.key_problem(head, env)
        if problem:
            raise ConfigError(problem)

    def key_problem(self, head: AuditHead | None, env: str = KEY_ENV) -> str | None:
        """What is wrong with this writer's key for a chain whose head is ``head``: the head is
        signed and this writer has no key, or another one (its events would be unsigned or
        signed under the wrong key, and every later ``bastion audit verify`` would report them
        as tampering); ``None`` when it fits. A chain begun without a key takes a keyed writer
        (it signs from then on); a missing head (nothing written yet) takes any."""
        if head is None or head.mac is None:
            return None
        if self.key is None:
            return (f"the audit log is keyed (its head is signed) but ${env} is not set here; "
                    f"nothing was done. Set ${env} to the audit key the gateway and the web "
                    "app use, and run it again")
        if not hmac.compare_digest(head.mac, mac(self.key, "head", head.seq, head.hash)):
            return (f"${env} here is not the key the audit log is signed with (or its head "
                    f"was edited: run 'bastion audit verify'); nothing was done. Set ${env} "
                    "to the audit key the gateway and the web app use")
        return None

    def append(self, events: Sequence[dict[str, Any]]) -> int:
        """Append events (each needs a ``type``) in one transaction; returns the last seq."""
        with self.sessions.begin() as session:
            seq, digest = self._append(session, events)
        self._note(seq, digest)
        return seq

    def append_in(self, session: Session, events: Sequence[dict[str, Any]]) -> int:
        """Append events inside the caller's transaction (committed with it)."""
        return self._append(session, events)[0]

    def _append(self, session: Session, events: Sequence[dict[str, Any]]) -> tuple[int, str]:
        # The no-op update takes the write lock first (SQLite) / locks the row (PostgreSQL),
        # so concurrent writers queue here instead of forking the chain.
        session.execute(update(AuditHead).where(AuditHead.id == 1)
                        .values(seq=AuditHead.seq))
        head = session.execute(select(AuditHead).where(AuditHead.id == 1)).scalar_one()
        problem = self.key_problem(head)
        if problem and self.refuse_unfit:  # the caller's transaction rolls back with it
            raise ConfigError(problem)
        if problem and not self._warned_unfit:
            # A gateway started before the chain was keyed (check_key passed then): its
            # events still go in (a suspension must not fail on the audit log's settings),
            # and verify will list them.
            self._warned_unfit = True
            logger.error("audit events of this process will be reported by 'bastion audit "
                         "verify': %s", problem.replace("; nothing was done", ""))
        seq, prev = head.seq, head.hash
        for event in events:
            seq += 1
            row = _row(seq, prev, event)
            row.mac = mac(self.key, "event", seq, row.hash) if self.key else None
            session.add(row)
            prev = row.hash
        head.seq, head.hash = seq, prev
        head.mac = mac(self.key, "head", seq, prev) if self.key else None
        session.flush()
        return seq, prev

    def _note(self, seq: int, digest: str) -> None:
        if self.anchor is None:
            return
        self._pending = (seq, digest)
        if time.monotonic() - self._anchored_at >= self.anchor_every_s:
            self.checkpoint()

    def checkpoint(self) -> None:
        """Write the newest appended event to the anchor, if it is not there yet."""
        if self.anchor is None or self._pending is None:
            return
        seq, digest = self._pending
        try:
            self.anchor.record(seq, digest)
        except OSError as exc:
            logger.error("audit checkpoint of event %d could not be written to %s: %s",  # noqa: TRY400 - one line is enough
                         seq, self.anchor.path, exc)
            return
        self._anchored_at = time.monotonic()
        if self._pending == (seq, digest):
            self._pending = None

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
        """Walk the chain from the first event and report every break.

        With a key, every event and the head must carry a valid HMAC; with an anchor, every
        checkpoint must still be in the chain, unchanged, at or before the head.
        """
        with self.sessions() as session:
            head = session.execute(select(AuditHead).where(AuditHead.id == 1)
                                   ).scalar_one_or_none()
            walk = _Walk(self.key)
            for row in session.execute(_ROWS):
                walk.visit(row)
        problems = walk.problems
        if head is None:
            head_seq = walk.last[0]
            problems.append(Problem(head_seq, _no_head(walk.count, head_seq)))
        else:
            head_seq = head.seq
            if walk.last != (head.seq, head.hash):
                problems.append(Problem(head.seq, f"the head names event {head.seq} but the "
                                        f"chain ends at event {walk.last[0]}: events were "
                                        "removed or the head was edited"))
            if self.key and head.mac != mac(self.key, "head", head.seq, head.hash):
                problems.append(Problem(head.seq, "the head is not signed with the audit key: "
                                        "it was moved or rewritten"))
        checkpoints = self._check_anchor(walk.hashes, head_seq, problems)
        return VerifyReport(walk.count, head_seq, tuple(problems), keyed=self.key is not None,
                            checkpoints=checkpoints)

    def _check_anchor(self, hashes: dict[int, str], head: int,
                      problems: list[Problem]) -> int:
        if self.anchor is None:
            return 0
        checkpoints = self.anchor.read()
        for number, point in enumerate(checkpoints, 1):
            if point is None:
                problems.append(Problem(0, f"anchor line {number} cannot be read"))
            elif self.key and point.mac != mac(self.key, "anchor", point.seq, point.hash):
                problems.append(Problem(point.seq, f"anchor line {number} is not signed with "
                                        "the audit key: the anchor was edited"))
            elif point.seq > head:
                problems.append(Problem(point.seq, f"the anchor saw event {point.seq} (at "
                                        f"{point.at}) but the chain ends at {head}: events were "
                                        "removed or the database was rolled back"))
            elif hashes.get(point.seq) != point.hash:
                problems.append(Problem(point.seq, f"event {point.seq} differs from the "
                                        f"checkpoint taken at {point.at}: the chain was "
                                        "rewritten"))
        return len(checkpoints)


def _row(seq: int, prev: str, event: dict[str, Any]) -> AuditEvent:
    at: datetime = utcnow()
    data = {**event, "seq": seq, "at": at.isoformat()}
    body = canonical(data)
    return AuditEvent(seq=seq, at=at, type=str(event["type"]),
                      request_id=event.get("request_id"), account_id=event.get("account_id"),
                      body=body, prev_hash=prev, hash=chain_hash(prev, body))


# Every column verify reads, ``at`` as stored: SQLite keeps text that an edit can make
# unreadable as a time, and reading it through the DateTime type would then raise mid-walk.
_ROWS = select(AuditEvent.seq, AuditEvent.type, AuditEvent.request_id, AuditEvent.account_id,
               type_coerce(AuditEvent.at, String).label("at"), AuditEvent.body,
               AuditEvent.prev_hash, AuditEvent.hash, AuditEvent.mac).order_by(AuditEvent.seq)


def _no_head(events: int, last: int) -> str:
    held = f"the chain holds {events} event(s), the last is {last}" if events else \
        "the chain holds no events"
    return (f"the audit_head row is missing ({held}): it was deleted, so the database alone "
            "cannot tell whether newer events were removed, and the gateway cannot append "
            "until it is back; treat the database as tampered with, restore it from a backup "
            "and verify that with --anchor")


class _Row(Protocol):
    """The columns of one ``audit_events`` row that verify reads (``at`` as stored)."""

    seq: int
    type: str
    request_id: str | None
    account_id: str | None
    at: object
    body: str
    prev_hash: str
    hash: str
    mac: str | None


class _Walk:
    """The chain walk: sequence, links, hashes, HMACs and indexed columns of each row."""

    def __init__(self, key: bytes | None) -> None:
        self.key = key
        self.problems: list[Problem] = []
        self.hashes: dict[int, str] = {}
        self.count = 0
        self.last: tuple[int, str] = (0, GENESIS)

    def visit(self, row: _Row) -> None:
        expected_seq, prev = self.last[0] + 1, self.last[1]
        self.count += 1
        if row.seq != expected_seq:
            self.problems.append(Problem(row.seq, f"events {expected_seq}..{row.seq - 1} are "
                                         "missing"))
        if row.prev_hash != prev:
            self.problems.append(Problem(row.seq, "prev_hash does not match the previous event"))
        if chain_hash(row.prev_hash, row.body) != row.hash:
            self.problems.append(Problem(row.seq, "the body was edited (hash mismatch)"))
        elif self.key and row.mac != mac(self.key, "event", row.seq, row.hash):
            self.problems.append(Problem(row.seq, "the event is not signed with the audit key: "
                                         "it was written or rewritten without the key"))
        self.problems.extend(_columns_match(row))
        self.hashes[row.seq] = row.hash
        self.last = (row.seq, row.hash)


def _columns_match(row: _Row) -> list[Problem]:
    try:
        body = json.loads(row.body)
    except ValueError:
        return [Problem(row.seq, "the body is not JSON")]
    if not isinstance(body, dict):
        return [Problem(row.seq, "the body is not a JSON object")]
    wanted = {"seq": row.seq, "type": row.type, "request_id": row.request_id,
              "account_id": row.account_id}
    wrong = [name for name, value in wanted.items() if body.get(name) != value]
    hashed_at = _time(body.get("at"))
    if hashed_at is None or _time(row.at) != hashed_at:
        wrong.append("at")
    return [Problem(row.seq, f"column(s) {wrong} differ from the hashed body")] if wrong else []


def _time(value: object) -> datetime | None:
    """An instant from a stored time (a datetime, or ISO text); naive means UTC (SQLite keeps
    no offset). ``None`` for anything that is not a time."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
