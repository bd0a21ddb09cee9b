"""What the dashboard shows, computed from the rollups: chart-ready series and top lists."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bastion.monitor._audit import AuditLog
from bastion.monitor._eventstore import EventStore, Point
from bastion.monitor._incidentstore import IncidentStore
from bastion.store import AuditEvent
from bastion.web import bar_chart

WINDOWS = {"1h": (3600, 60), "24h": (86_400, 900), "7d": (7 * 86_400, 3600)}
"""Overview windows: name -> (seconds shown, seconds per step)."""
COLOURS = {"checks": "#1f5fbf", "blocks": "#b3261e", "flags": "#8a5a00",
           "failures": "#6b3fa0"}
ACCOUNT_EVENTS = ("account.suspended", "account.reinstated")


def when(at: float) -> str:
    """``2026-01-01 12:00`` (UTC) for an epoch time."""
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M")


@dataclass
class Monitoring:
    """The dashboard's stores (one per web app, via ``WebContext.service``)."""

    events: EventStore
    incidents: IncidentStore
    sessions: sessionmaker[Session]

    @classmethod
    def of(cls, ctx: Any) -> Monitoring:
        """Build from a :class:`~bastion.web.WebContext`."""
        audit: AuditLog = ctx.audit
        return cls(EventStore(ctx.sessions), IncidentStore(ctx.sessions, audit=audit),
                   ctx.sessions)

    def account_history(self, account_id: str, limit: int = 50) -> list[dict[str, Any]]:
        """Suspensions and reinstatements of an account, newest first (from the audit log)."""
        query = (select(AuditEvent).where(AuditEvent.account_id == account_id,
                                          AuditEvent.type.in_(ACCOUNT_EVENTS))
                 .order_by(AuditEvent.seq.desc()).limit(limit))
        with self.sessions() as session:
            rows = session.execute(query).scalars().all()
        out = []
        for row in rows:
            body = json.loads(row.body)
            out.append({"at": row.at.strftime("%Y-%m-%d %H:%M"), "type": row.type,
                        "by": body.get("by"), "reason": body.get("reason")})
        return out


def _steps(points: Sequence[Point], since: float, until: float, step: int) -> list[Point]:
    """Every step from ``since`` to ``until`` (zeros where no event came)."""
    found = {p.at: p for p in points}
    start = int(since) - int(since) % step
    return [found.get(at, Point(at, 0, 0, 0, 0, 0, 0.0, 0.0))
            for at in range(start, int(until) + 1, step)]


def line(points: Sequence[Point]) -> dict[str, Any]:
    """A Chart.js line chart of checks, blocks, flags and failures."""
    series = {"checks": [p.events for p in points], "blocks": [p.blocks for p in points],
              "flags": [p.flags for p in points],
              "failures": [p.errors for p in points]}
    return {"type": "line", "labels": [when(p.at) for p in points],
            "datasets": [{"label": name, "data": data, "borderColor": COLOURS[name],
                          "backgroundColor": COLOURS[name], "pointRadius": 0, "tension": 0.2}
                         for name, data in series.items()]}


def bars(label: str, names: Sequence[str], values: Sequence[int], colour: str,
         ) -> dict[str, Any]:
    """A Chart.js horizontal bar chart."""
    return bar_chart(names, {label: values}, colours=(colour,), horizontal=True)


def overview(monitoring: Monitoring, names: dict[str, str], *, window: str,
             now: float) -> dict[str, Any]:
    """The overview's charts and top lists for ``window`` ending ``now``."""
    span, step = WINDOWS[window]
    since = now - span
    events = monitoring.events
    points = _steps(events.series(since=since, step_s=step), since, now, step)
    decisions = events.top("decision", since=since, by="events", limit=10)
    categories = events.top("category", since=since, by="blocks", limit=10)
    accounts = [t for t in events.top("account", since=since, by="blocks", limit=10)
                if t.blocks]
    return {
        "window": window, "since": when(since), "until": when(now),
        "totals": {"checks": sum(p.events for p in points),
                   "blocks": sum(p.blocks for p in points),
                   "flags": sum(p.flags for p in points),
                   "failures": sum(p.errors for p in points)},
        "traffic": line(points),
        "verdicts": {"type": "doughnut", "labels": [d.value for d in decisions],
                     "datasets": [{"label": "checks", "data": [d.events for d in decisions]}]},
        "categories": bars("blocked", [c.value for c in categories],
                           [c.blocks for c in categories], COLOURS["blocks"]),
        "accounts": bars("blocked prompts",
                         [names.get(a.value, a.value) for a in accounts],
                         [a.blocks for a in accounts], COLOURS["flags"]),
        "top_accounts": [{"id": a.value, "name": names.get(a.value, a.value),
                          "blocks": a.blocks, "checks": a.events} for a in accounts],
    }


def timeline(monitoring: Monitoring, account_id: str, *, now: float,
             days: int = 7) -> dict[str, Any]:
    """An account's blocked prompts and checks per hour over ``days`` days."""
    since = now - days * 86_400
    points = _steps(monitoring.events.series(since=since, step_s=3600, dimension="account",
                                             value=account_id), since, now, 3600)
    return {"strikes": {
        "type": "bar", "labels": [when(p.at) for p in points],
        "datasets": [{"label": "blocked prompts", "data": [p.blocks for p in points],
                      "backgroundColor": COLOURS["blocks"]},
                     {"label": "checks", "data": [p.events for p in points],
                      "backgroundColor": "#9db7e0"}]}}
