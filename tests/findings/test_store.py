"""Submissions, attachments, comments, pages and scopes, on SQLite and on PostgreSQL."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bastion.errors import InputError
from bastion.findings import (
    MAX_ATTACHMENT_BYTES,
    Filters,
    FindingStore,
    Scope,
    parse_submission,
)

from .conftest import Clock, finding_data, submission

HOSTILE = ("<script>alert(1)</script><img src=x onerror=alert(2)> [click](javascript:alert(3))"
           " \x00\x07\x1b[31mred\u202eevil\u200b \U000e0041 " + "A" * 200_000)


def test_hostile_transcript_is_stored_intact(store: FindingStore) -> None:
    data = finding_data(prompt=HOSTILE, output=HOSTILE[::-1], title="<b>bold</b>\u202e")
    item = store.get(store.submit(parse_submission(data), "alice").id)
    assert item.transcript[1]["content"] == HOSTILE
    assert item.transcript[2]["content"] == HOSTILE[::-1]
    assert item.title == "<b>bold</b>\u202e"


@pytest.mark.parametrize(("change", "message"), [
    ({"transcript": [{"role": "assistant", "content": "hi"}]}, "at least one 'user' turn"),
    ({"transcript": []}, "transcript"),
    ({"severity": {"impact": 9, "breadth": 1, "effort": 1}}, "severity.impact"),
    ({"repro_rate": 1.5}, "repro_rate"),
    ({"colour": "red"}, "colour: Extra inputs are not permitted"),
    ({"title": ""}, "title"),
])
def test_bad_submissions_name_the_field(change: dict[str, object], message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_submission(finding_data(**change))


def test_missing_reproducibility_without_rate_is_explained(store: FindingStore) -> None:
    with pytest.raises(InputError, match="reproducibility is missing"):
        store.submit(submission(repro_rate=None), "alice")


def test_attachments_are_stored_byte_for_byte(store: FindingStore) -> None:
    item = store.submit(submission(), "alice")
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 10
    info = store.attach(item.id, "shot.png", "image/png", png, actor="alice")
    meta, data = store.attachment_data(info.id)
    assert data == png
    assert meta.sha256 == hashlib.sha256(png).hexdigest()
    assert [a.name for a in store.attachments(item.id)] == ["shot.png"]


@pytest.mark.parametrize(("name", "kind", "data", "message"), [
    ("x.exe", "application/x-msdownload", b"MZ", "not accepted"),
    ("fake.png", "image/png", b"<svg onload=alert(1)>", "not that format"),
    ("a.json", "application/json", b"{not json", "not valid JSON"),
    ("big.txt", "text/plain", b"a" * (MAX_ATTACHMENT_BYTES + 1), "the limit is"),
    ("../etc/passwd", "text/plain", b"x", "plain file name"),
])
def test_bad_attachments_are_refused(store: FindingStore, name: str, kind: str, data: bytes,
                                     message: str) -> None:
    item = store.submit(submission(), "alice")
    with pytest.raises(InputError, match=message):
        store.attach(item.id, name, kind, data, actor="alice")
    assert store.attachments(item.id) == []


def test_comments_record_mentions(store: FindingStore) -> None:
    item = store.submit(submission(), "alice")
    note = store.comment(item.id, "tess", "@bob can you reproduce? cc @dev.lead, not a@b.c")
    assert note.mentions == ("bob", "dev.lead")
    assert [c.body for c in store.comments(item.id)] == [note.body]
    with pytest.raises(InputError):
        store.comment(item.id, "tess", "   ")


def test_unknown_finding_is_a_clear_error(store: FindingStore) -> None:
    with pytest.raises(InputError, match="there is no finding 42"):
        store.get(42)


def _fill(store: FindingStore, clock: Clock, count: int) -> list[int]:
    ids = []
    for n in range(count):
        clock.advance(minutes=1)
        item = store.submit(submission(title=f"f{n}", target=f"sys-{n % 3}",
                                       engagement=f"eng-{n % 2}"), f"member-{n % 4}")
        ids.append(item.id)
    return ids


def _walk(fetch, **options):  # type: ignore[no-untyped-def]
    seen, after = [], None
    while True:
        page = fetch(after=after, limit=4, **options)
        seen += [s.id for s in page.items]
        if page.next is None:
            return seen
        after = page.next


def _pages_and_scopes(store: FindingStore, clock: Clock) -> None:
    ids = _fill(store, clock, 11)
    assert _walk(store.listing) == ids[::-1]
    queued = _walk(store.queue)
    assert sorted(queued) == sorted(ids)
    assert queued == [s.id for s in store.queue(limit=50).items]
    developer = Scope(targets=("sys-1",))
    assert {store.get(i).target for i in _walk(store.listing, scope=developer)} == {"sys-1"}
    red_teamer = Scope(reporter="member-0", engagements=("eng-1",))
    visible = _walk(store.listing, scope=red_teamer)
    assert all(store.get(i).reporter == "member-0" or store.get(i).engagement == "eng-1"
               for i in visible)
    assert len(visible) == len({i for i in ids if store.get(i).reporter == "member-0"
                                or store.get(i).engagement == "eng-1"})
    assert store.listing(scope=Scope()).items == ()  # no rule: nothing is visible
    assert _walk(store.listing, filters=Filters(target="sys-2")) == [
        i for i in ids[::-1] if store.get(i).target == "sys-2"]
    with pytest.raises(InputError, match="cursor is not valid"):
        store.listing(after="garbage!")


def test_keyset_pages_and_scopes_sqlite(store: FindingStore, clock: Clock) -> None:
    _pages_and_scopes(store, clock)


def test_keyset_pages_and_scopes_postgres(pg_sessions: sessionmaker[Session],
                                          clock: Clock) -> None:
    _pages_and_scopes(FindingStore(pg_sessions, clock=clock), clock)


def test_metrics_measure_triage_fix_and_reopen(store: FindingStore, clock: Clock) -> None:
    a = store.submit(submission(engagement="june"), "alice")
    b = store.submit(submission(prompt="another attack entirely", engagement="june"), "bob")
    clock.advance(hours=4)
    for item in (a, b):
        store.transition(item.id, "triaging", actor="t", reason="look")
        clock.advance(hours=2)
        store.transition(item.id, "accepted", actor="t", reason="real")
        store.transition(item.id, "fixing", actor="d", reason="go")
    clock.advance(hours=10)
    store.transition(a.id, "fixed", actor="d", reason="patched")
    store.transition(a.id, "regressed", actor="ci", reason="back")
    figures = store.metrics()
    assert figures.findings == 2
    assert figures.median_hours_to_triage == 7.0  # a: 6 h, b: 8 h (triage ends on acceptance)
    assert figures.median_hours_to_fix == 18.0
    assert figures.reopen_rate == 1.0
    assert figures.per_engagement == {"june": 2}
    assert figures.per_member["alice"] == {"reported": 1, "credited": 1, "accepted": 1}
