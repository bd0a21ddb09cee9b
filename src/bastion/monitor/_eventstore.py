"""Events and their rollups in the store: written in batches, read by the dashboard.

Each batch of events is inserted and folded into per-minute rollups (one row per dimension,
value and minute: ``all``, ``account``, ``key``, ``model``, ``route``, ``category``,
``decision``) with one upsert per row, in the same transaction. Charts and top-N lists read the
rollups (a day of one dimension is at most 1,440 rows per value), never the raw events, so they
stay fast on PostgreSQL however many events there are.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from sqlalchemy import Table, desc, func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from bastion.errors import InputError
from bastion.monitor._event import MonitorEvent
from bastion.monitor._tables import ROLLUP_DIMENSIONS, MonitorEventRow, MonitorRollup

BUCKET_S = 60
COUNTS = ("events", "blocks", "flags", "errors", "fail_opens")
Measure = Literal["events", "blocks", "flags", "errors", "fail_opens"]


@dataclass(frozen=True)
class Point:
    """One step of a time series read from the rollups."""

    at: int
    events: int
    blocks: int
    flags: int
    errors: int
    fail_opens: int
    latency_ms_mean: float
    latency_ms_max: float


@dataclass(frozen=True)
class Top:
    """One row of a top-N list."""

    value: str
    events: int
    blocks: int
    flags: int
    errors: int
    fail_opens: int


def _values(event: MonitorEvent) -> list[tuple[str, str]]:
    out = [("all", "*"), ("route", event.route), ("decision", event.decision)]
    out += [(d, v) for d, v in (("account", event.account_id), ("key", event.key_id),
                                ("model", event.model)) if v]
    out += [("category", c) for c in event.categories]
    return out


def rollup(events: Sequence[MonitorEvent]) -> dict[tuple[str, str, int], dict[str, float]]:
    """The rollup increments of a batch, keyed by (dimension, value, minute)."""
    rows: dict[tuple[str, str, int], dict[str, float]] = defaultdict(
        lambda: dict.fromkeys((*COUNTS, "latency_ms_sum", "latency_ms_max"), 0.0))
    for event in events:
        bucket = int(event.at // BUCKET_S) * BUCKET_S
        for dimension, value in _values(event):
            row = rows[(dimension, value[:200], bucket)]
            row["events"] += 1
            row["blocks"] += event.blocked
            row["flags"] += event.decision == "flag"
            row["errors"] += event.error
            row["fail_opens"] += event.fail_open
            row["latency_ms_sum"] += event.latency_ms
            row["latency_ms_max"] = max(row["latency_ms_max"], event.latency_ms)
    return rows


@cache
def _rollup_upsert(dialect: str) -> Any:
    """Insert a rollup row, or add its counts to the row already there (per dialect)."""
    table = MonitorRollup.__table__
    assert isinstance(table, Table)
    stmt = (pg_insert if dialect == "postgresql" else sqlite_insert)(table)
    excluded = stmt.excluded
    update: dict[str, Any] = {k: table.c[k] + excluded[k] for k in (*COUNTS, "latency_ms_sum")}
    larger = func.max if dialect == "sqlite" else func.greatest
    update["latency_ms_max"] = larger(table.c.latency_ms_max, excluded.latency_ms_max)
    return stmt.on_conflict_do_update(index_elements=["dimension", "value", "bucket"],
                                      set_=update)


class EventStore:
    """Monitoring events and rollups over the store's session factory.

    Lifetime: one per process. Thread-safe: each call opens its own session. Failure: database
    errors propagate as SQLAlchemy errors (the background writer retries them); bad query
    arguments raise :class:`~bastion.errors.InputError`.
    """

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def append(self, events: Sequence[MonitorEvent]) -> int:
        """Insert events and fold them into the rollups, in one transaction."""
        if not events:
            return 0
        with self.sessions.begin() as session:
            # A bulk insert (one compiled statement, the rows as parameters), not ORM objects.
            session.execute(insert(MonitorEventRow), [
                {**e.to_json(), "categories": list(e.categories)} for e in events])
            self._upsert(session, rollup(events))
        return len(events)

    def _upsert(self, session: Session, rows: dict[tuple[str, str, int], dict[str, float]],
                ) -> None:
        values = [{"dimension": d, "value": v, "bucket": b, **{k: int(row[k]) for k in COUNTS},
                   "latency_ms_sum": row["latency_ms_sum"],
                   "latency_ms_max": row["latency_ms_max"]}
                  for (d, v, b), row in sorted(rows.items())]
        if values:
            # One statement with the rows as parameters (executemany): SQLAlchemy compiles it
            # once, where a multi-row VALUES clause was compiled again on every call.
            session.execute(_rollup_upsert(session.get_bind().dialect.name), values)

    def series(self, *, since: float, until: float | None = None, step_s: int = 300,
               dimension: str = "all", value: str = "*") -> list[Point]:
        """Counts per ``step_s`` seconds for one dimension value (every event by default).

        Steps without events are absent (the charts fill them).
        """
        _check(dimension, step_s)
        r = MonitorRollup
        step = (r.bucket - r.bucket % step_s).label("step")  # integer floor on every dialect
        query = (select(step, *(func.sum(getattr(r, c)) for c in COUNTS),
                        func.sum(r.latency_ms_sum), func.max(r.latency_ms_max))
                 .where(r.dimension == dimension, r.value == value, r.bucket >= int(since))
                 .group_by(step).order_by(step))
        if until is not None:
            query = query.where(r.bucket < until)
        with self.sessions() as session:
            rows = session.execute(query).all()
        out = []
        for row in rows:
            events, blocks, flags, errors, fail_opens = (int(n or 0) for n in row[1:6])
            out.append(Point(int(row[0]), events, blocks, flags, errors, fail_opens,
                             round(float(row[6] or 0.0) / max(events, 1), 3),
                             float(row[7] or 0.0)))
        return out

    def top(self, dimension: str, *, since: float, by: Measure = "blocks",
            limit: int = 10) -> list[Top]:
        """The values of ``dimension`` with the most ``by`` since ``since``."""
        _check(dimension, BUCKET_S)
        if by not in COUNTS:
            raise InputError(f"cannot rank by {by!r}; use one of {list(COUNTS)}")
        r = MonitorRollup
        sums = [func.sum(getattr(r, c)).label(c) for c in COUNTS]
        query = (select(r.value, *sums).where(r.dimension == dimension, r.bucket >= int(since))
                 .group_by(r.value).order_by(desc(by), r.value).limit(limit))
        with self.sessions() as session:
            return [Top(str(row[0]), *(int(n or 0) for n in row[1:]))
                    for row in session.execute(query).all()]

    def last_id(self) -> int:
        """The id of the newest stored event (0 when there is none)."""
        with self.sessions() as session:
            return int(session.execute(select(func.max(MonitorEventRow.id))).scalar() or 0)

    def after(self, event_id: int, *, limit: int = 2000) -> list[tuple[int, MonitorEvent]]:
        """Up to ``limit`` events stored after the one with id ``event_id``, in id order."""
        e = MonitorEventRow
        query = select(e).where(e.id > event_id).order_by(e.id).limit(limit)
        with self.sessions() as session:
            return [(row.id, _event(row)) for row in session.execute(query).scalars()]

    def events(self, *, account: str | None = None, since: float | None = None,
               blocked_only: bool = False, limit: int = 100) -> list[MonitorEvent]:
        """The newest events (of one account, since a time), newest first."""
        e = MonitorEventRow
        query = select(e).order_by(desc(e.at), desc(e.id)).limit(limit)
        if account is not None:
            query = query.where(e.account_id == account)
        if since is not None:
            query = query.where(e.at >= since)
        if blocked_only:
            query = query.where(e.decision == "block")
        with self.sessions() as session:
            return [_event(row) for row in session.execute(query).scalars()]


def _event(row: MonitorEventRow) -> MonitorEvent:
    return MonitorEvent(row.at, row.request_id, row.account_id, row.key_id, row.model,
                        row.route, row.direction, row.policy_id, row.policy_version,
                        tuple(row.categories or ()), row.decision, row.tier, row.latency_ms,
                        row.error, row.fail_open, row.sample)


def _check(dimension: str, step_s: int) -> None:
    if dimension not in ROLLUP_DIMENSIONS:
        raise InputError(f"unknown dimension {dimension!r}; use one of {list(ROLLUP_DIMENSIONS)}")
    if step_s < BUCKET_S or step_s % BUCKET_S:
        raise InputError(f"step {step_s} s is not a whole number of minutes; use a multiple of "
                         f"{BUCKET_S}")
