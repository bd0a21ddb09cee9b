"""Detector state survives a restart: baselines, long windows and a tail's position."""

from __future__ import annotations

import json
import math

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bastion.monitor import (
    AuditLog,
    DetectorStateRow,
    DetectorStateStore,
    EventStore,
    LiveMonitor,
    MonitorEvent,
    StoreTail,
    Watcher,
    build_detectors,
    detector_names,
)

from .conftest import background, event, hash_embed

NO_MODEL = {"cluster-spread": None}  # the others need no embedding model


def monitor(sessions: sessionmaker[Session], *, resume: bool = True) -> LiveMonitor:
    return LiveMonitor(sessions, audit=AuditLog(sessions), watcher=Watcher(settings=NO_MODEL),
                       resume=resume, save_every_s=0)


def slow_blocks(hours: range) -> list[MonitorEvent]:
    """Two blocked prompts an hour from one account: slow, steady, under every rate limit."""
    return [event(h * 3600 + m * 60, "acct_slow", decision="block", categories=("INJ",))
            for h in hours for m in (10, 40)]


def test_a_restarted_watcher_remembers_a_slow_attacker(sessions: sessionmaker[Session]) -> None:
    store = EventStore(sessions)
    first = monitor(sessions)
    tail = StoreTail(first)
    store.append(slow_blocks(range(3)))  # three hours: six blocks, not enough yet
    while tail.poll():
        pass
    assert first.pending == []
    assert not [a for a in first.incidents.incidents() if a.accounts == ("acct_slow",)]
    first.close()

    store.append(slow_blocks(range(3, 5)))  # stored while no watcher ran
    second = monitor(sessions)
    resumed = StoreTail(second)
    assert resumed.position == first.position  # continues after the last watched event
    while resumed.poll():
        pass
    (incident,) = second.incidents.incidents()
    assert incident.accounts == ("acct_slow",)
    (alert,) = incident.alerts
    assert alert.detector == "slow-attacker"
    assert alert.measures["hours"] == 5
    second.close()

    cold = Watcher(settings=NO_MODEL)  # what a watcher without the saved state sees
    assert cold.detect(slow_blocks(range(3, 5))) == []


def noisy(start_bucket: int, buckets: int, per_bucket: int) -> list[MonitorEvent]:
    """An account that always trips the policy about ``per_bucket`` times per 10 minutes."""
    return [event(b * 600 + n * 600 / (per_bucket + 2), "acct_noisy", n=n,
                  decision="block" if n < per_bucket else "pass", categories=("HAT",))
            for b in range(start_bucket, start_bucket + buckets) for n in range(per_bucket + 2)]


def alerts(live: LiveMonitor) -> int:
    """Block-rate alerts filed (the noisy account is a slow attacker too, by hour five)."""
    return sum(a.detector == "block-rate" for i in live.incidents.incidents(None)
               for a in i.alerts)


def test_a_restarted_watcher_keeps_an_accounts_baseline(sessions: sessionmaker[Session],
                                                        ) -> None:
    first = monitor(sessions)
    first.watch(noisy(0, 24, 12))
    first.close()  # the first buckets alerted while the baseline learned; those are filed
    before = alerts(first)
    assert before > 0

    second = monitor(sessions)
    second.watch(noisy(24, 3, 12))
    assert alerts(second) == before  # its usual level is no news to a resumed watcher
    second.close()

    cold = monitor(sessions, resume=False)
    cold.watch(noisy(24, 3, 12))
    assert alerts(cold) > before  # a cold watcher alerts on the same traffic


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_stale_and_surplus_keys_are_evicted(sessions: sessionmaker[Session]) -> None:
    detectors = build_detectors({"cluster-spread": None})
    store = DetectorStateStore(sessions, max_age_s=3600.0, max_keys=3)
    old = [event(0, f"acct_old{n}", decision="block", categories=("HAT",)) for n in range(2)]
    new = [event(7200 + n, f"acct_new{n}", decision="block", categories=("HAT",))
           for n in range(5)]
    for detector in detectors:
        detector.observe(old)
    store.save(detectors)
    for detector in detectors:
        detector.observe(new)
    store.save(detectors)
    query = select(DetectorStateRow.key).where(DetectorStateRow.detector == "slow-attacker")
    with sessions() as session:
        keys = sorted(session.execute(query).scalars())
    assert keys == ["acct_new2", "acct_new3", "acct_new4"]  # the newest three, none stale


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_state_saved_under_other_settings_is_not_loaded(sessions: sessionmaker[Session],
                                                        ) -> None:
    first = monitor(sessions)
    first.watch(slow_blocks(range(3)))
    first.close()
    other = LiveMonitor(sessions, audit=AuditLog(sessions), save_every_s=0, watcher=Watcher(
        settings={**NO_MODEL, "slow-attacker": {"min_blocks": 9}}))
    slow = next(d for d in other.watcher.detectors if d.name == "slow-attacker")  # type: ignore[union-attr]
    rate = next(d for d in other.watcher.detectors if d.name == "block-rate")  # type: ignore[union-attr]
    assert slow.dump_state(-math.inf) == {}  # a different min_blocks: starts cold
    assert rate.dump_state(-math.inf)  # unchanged settings: resumed


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_only_changed_keys_are_written(sessions: sessionmaker[Session]) -> None:
    detectors = build_detectors({"cluster-spread": None})
    store = DetectorStateStore(sessions)
    for detector in detectors:
        detector.observe(slow_blocks(range(2)))
    assert store.save(detectors) > 0
    assert store.save(detectors) == 0  # nothing changed since
    one = event(3 * 3600, "acct_other", decision="block", categories=("HAT",))
    for detector in detectors:
        detector.observe([one])
    # the account's window (slow, probe); its bucket, the route's and the category's (rate);
    # the route's two failure series and its latencies; nothing of acct_slow's again
    assert store.save(detectors) == 8


@pytest.mark.parametrize("name", detector_names())
def test_every_detector_resumes_what_it_dumped(name: str) -> None:
    """Contract: ``load_state(dump_state())`` gives a detector that dumps the same JSON."""
    stream = sorted([*background(90, per_minute=10), *slow_blocks(range(1)),
                     *(event(600 + n, f"acct_{n}", decision="block", categories=("HAT",),
                             sample=f"same attack|{n}") for n in range(12))],
                    key=lambda e: e.at)
    (first,) = build_detectors({n: None for n in detector_names() if n != name},
                               embed=hash_embed)
    for start in range(0, len(stream), 100):
        first.observe(stream[start:start + 100])
    dumped = {k: json.loads(json.dumps(v.data)) for k, v in first.dump_state(-math.inf).items()}
    (second,) = build_detectors({n: None for n in detector_names() if n != name},
                                embed=hash_embed)
    second.load_state(dumped)
    again = {k: json.loads(json.dumps(v.data)) for k, v in second.dump_state(-math.inf).items()}
    assert again == dumped
    assert first.dump_state(math.inf) == {}  # nothing changed after the end of time
