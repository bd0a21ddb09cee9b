"""The severity rubric, SLA deadlines, overdue flags and the priority queue."""

from __future__ import annotations

import pytest

from bastion.errors import InputError
from bastion.findings import SLA, FindingStore, SeverityInputs, rate, reproducibility_of

from .conftest import Clock, submission


@pytest.mark.parametrize(("inputs", "level"), [
    ((4, 4, 3, 3), "critical"),   # mass harm, reliable, everyone, trivial
    ((4, 3, 2, 3), "critical"),   # 72: the critical floor
    ((3, 4, 3, 1), "high"),       # serious but needs an expert
    ((3, 3, 2, 2), "high"),       # 36: the high floor
    ((2, 3, 2, 1), "medium"),     # 12: the medium floor
    ((1, 4, 2, 1), "low"),
    ((4, 1, 1, 1), "medium"),     # critical impact is never rated low
])
def test_rubric_levels(inputs: tuple[int, int, int, int], level: str) -> None:
    assert rate(SeverityInputs(*inputs)) == level


def test_out_of_range_input_says_what_the_scale_means() -> None:
    with pytest.raises(InputError, match=r"breadth=5 is out of range; use one of \[1, 2, 3\]"):
        SeverityInputs(3, 3, 5, 1)


@pytest.mark.parametrize(("rate_", "level"), [(0.0, 1), (0.09, 1), (0.1, 2), (0.5, 3),
                                              (0.89, 3), (0.9, 4), (1.0, 4)])
def test_reproduction_rate_bands(rate_: float, level: int) -> None:
    assert reproducibility_of(rate_) == level


def test_submission_derives_reproducibility_from_the_rate(store: FindingStore) -> None:
    item = store.submit(submission(repro_rate=0.95), "alice")  # impact 3, breadth 2, effort 3
    assert item.severity_inputs.reproducibility == 4
    assert item.severity == "critical"  # 3 * 4 * 2 * 3 = 72


def test_sla_deadline_moves_from_triage_to_fix_and_flags_overdue(store: FindingStore,
                                                                  clock: Clock) -> None:
    item = store.submit(submission(repro_rate=0.5), "alice")  # 3*3*2*3 = 54: high
    assert item.severity == "high"
    assert item.due_at == clock.now + SLA["high"].triage
    clock.advance(days=3)
    assert store.get(item.id).overdue(clock.now)
    assert store.queue().items[0].overdue
    store.transition(item.id, "triaging", actor="tess", reason="late")
    item = store.transition(item.id, "accepted", actor="tess", reason="real")
    assert item.due_at == item.created_at + SLA["high"].fix
    assert not store.queue().items[0].overdue
    item = store.transition(item.id, "fixing", actor="d", reason="go")
    store.transition(item.id, "fixed", actor="d", reason="patched")
    assert store.get(item.id).due_at is None
    assert store.queue().items == ()  # fixed findings leave the queue


def test_queue_orders_by_severity_then_deadline_then_age(store: FindingStore,
                                                         clock: Clock) -> None:
    low = store.submit(submission(title="low", repro_rate=0.05,
                                  severity={"impact": 1, "breadth": 1, "effort": 1}), "a")
    clock.advance(hours=1)
    high_old = store.submit(submission(title="high old", repro_rate=0.5), "a")
    clock.advance(hours=1)
    critical = store.submit(submission(title="critical", repro_rate=0.95), "a")
    clock.advance(hours=1)
    high_new = store.submit(submission(title="high new", repro_rate=0.5), "a")
    medium = store.submit(submission(title="medium", repro_rate=0.5,
                                     severity={"impact": 2, "breadth": 1, "effort": 2}), "a")
    rejected = store.submit(submission(title="rejected", repro_rate=0.95), "a")
    store.transition(rejected.id, "triaging", actor="t", reason="look")
    store.transition(rejected.id, "rejected", actor="t", reason="out of scope")
    order = [s.id for s in store.queue().items]
    assert order == [critical.id, high_old.id, high_new.id, medium.id, low.id]
    # An accepted high finding has a fix deadline far later than a new one's triage deadline.
    store.transition(high_old.id, "triaging", actor="t", reason="look")
    store.transition(high_old.id, "accepted", actor="t", reason="real")
    assert [s.id for s in store.queue().items][:3] == [critical.id, high_new.id, high_old.id]
