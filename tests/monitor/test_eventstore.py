"""Events and rollups in the store: the charts' numbers equal counts over the raw events."""

from __future__ import annotations

import time

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bastion.errors import InputError
from bastion.monitor import EventStore

from .conftest import T0, background, event


def test_rollups_match_the_events(sessions: sessionmaker[Session]) -> None:
    store = EventStore(sessions)
    events = background(30, per_minute=30)
    events += [event(600 + n, "acct_x", decision="block", categories=("INJ", "PII"), n=n,
                     latency_ms=100.0, route="completions") for n in range(7)]
    # Two batches: upserts add to the rows the first one made.
    store.append(events[: len(events) // 2])
    store.append(events[len(events) // 2:])
    series = store.series(since=T0, step_s=600)
    assert [p.at for p in series] == [int(T0), int(T0) + 600, int(T0) + 1200]
    assert sum(p.events for p in series) == len(events)
    assert sum(p.blocks for p in series) == sum(e.blocked for e in events)
    assert max(p.latency_ms_max for p in series) == 100.0
    top = store.top("account", since=T0, by="blocks", limit=3)
    assert top[0].value == "acct_x"
    assert top[0].blocks == 7
    categories = {t.value: t.blocks for t in store.top("category", since=T0)}
    assert categories["INJ"] == 7
    assert categories["PII"] == 7
    route = store.series(since=T0, step_s=3600, dimension="route", value="completions")
    assert [(p.events, p.blocks) for p in route] == [(7, 7)]
    recent = store.events(account="acct_x", blocked_only=True, limit=3)
    assert [e.request_id for e in recent] == [f"req-acct_x-{600 + n}-{n}" for n in (6, 5, 4)]


def test_bad_queries_say_what_to_use(sessions: sessionmaker[Session]) -> None:
    store = EventStore(sessions)
    with pytest.raises(InputError, match="unknown dimension 'colour'"):
        store.top("colour", since=T0)
    with pytest.raises(InputError, match="multiple of 60"):
        store.series(since=T0, step_s=90)
    with pytest.raises(InputError, match="cannot rank by 'vibes'"):
        store.top("account", since=T0, by="vibes")  # type: ignore[arg-type]


@pytest.mark.parametrize("sessions", ["postgresql"], indirect=True)
def test_a_day_of_rollups_reads_fast_on_postgresql(sessions: sessionmaker[Session]) -> None:
    store = EventStore(sessions)
    events = background(24 * 60, per_minute=12, accounts=300)
    for start in range(0, len(events), 2000):
        store.append(events[start:start + 2000])
    began = time.perf_counter()
    series = store.series(since=T0, step_s=300)
    top = store.top("account", since=T0, by="events", limit=10)
    elapsed = time.perf_counter() - began
    assert sum(p.events for p in series) == len(events)
    assert len(top) == 10
    assert elapsed < 1.0, f"a day's chart and top-10 took {elapsed:.2f} s"
