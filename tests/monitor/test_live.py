"""The gateway's monitoring sink: stores, watches and files each batch, and survives bad input."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bastion.monitor import AuditLog, EventStore, IncidentStore, LiveMonitor, Watcher

from .conftest import T0


def request(n: int, *, outcome: str = "block", latency: object = 1.0) -> dict[str, object]:
    return {"type": "gateway.request", "request_id": f"req_{n}", "account_id": "acct_evil",
            "key_id": "key_1", "route": "chat", "model": "m", "status": 400,
            "ended_at": T0 + n, "content": [f"attack number {n} <EMAIL_1>"],
            "checks": [{"direction": "input", "outcome": outcome, "policy": {"id": "default"},
                        "categories": ["INJ"], "tiers": ["rules"], "latency_ms": latency}]}


@pytest.mark.parametrize("sessions", ["sqlite"], indirect=True)
def test_a_batch_is_stored_watched_and_filed(sessions: sessionmaker[Session]) -> None:
    live = LiveMonitor(sessions, audit=AuditLog(sessions), samples=True,
                       watcher=Watcher(settings={"cluster-spread": None}))
    batch = [request(n) for n in range(10)]
    batch.insert(3, request(99, latency="not a number"))  # a malformed event is skipped
    batch.append({"type": "account.created", "account_id": "acct_x"})  # not a request
    assert live.append(batch) == 10
    assert len(EventStore(sessions).events(limit=100)) == 10
    (incident,) = IncidentStore(sessions).incidents()
    assert incident.accounts == ("acct_evil",)
    assert incident.evidence[-1].sample == "attack number 7 <EMAIL_1>"  # the 8th block fires
    live.close()


@pytest.mark.parametrize("sessions", ["sqlite"], indirect=True)
def test_without_a_watcher_events_are_only_stored(sessions: sessionmaker[Session]) -> None:
    live = LiveMonitor(sessions, audit=AuditLog(sessions), watcher=None)
    assert live.append([request(n) for n in range(10)]) == 10
    assert IncidentStore(sessions).incidents() == []
    assert EventStore(sessions).events(limit=1)[0].sample is None  # samples were not asked for
