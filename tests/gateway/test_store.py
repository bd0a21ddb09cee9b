"""Storage: hashed keys, the audit chain, PostgreSQL and Redis for real."""

from __future__ import annotations

import asyncio
import secrets
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from bastion.accounts import AccountStore, BlockHistory, RedisStrikeStore, key_digest
from bastion.accounts._sqlstrikes import SqlStrikeStore
from bastion.monitor import AuditLog
from bastion.store import close_store, open_store
from bastion.testing import ScriptedUpstream, Turn

from .conftest import GatewayFactory


def test_keys_are_hashed_shown_once_and_revocable(db_url: str,
                                                  sessions: sessionmaker[Session]) -> None:
    store = AccountStore(sessions)
    store.create_account("alice", "operator")
    info, key = store.create_key("alice", routes=["chat"], models=["gpt-*"])
    assert store.authenticate(key) is not None
    with store.sessions() as session:
        digests = session.execute(text("select digest, prefix from api_keys")).all()
    assert digests == [(key_digest(key), key[:10])]
    if db_url.startswith("sqlite"):
        assert key.encode() not in Path(db_url.removeprefix("sqlite:///")).read_bytes()
    assert key not in str(store.audit.events())
    store.revoke_key(info.id)
    assert store.authenticate(key) is None
    assert [e["type"] for e in store.audit.events()] == [
        "account.created", "key.created", "key.revoked"]


def test_audit_verify_detects_edits_and_missing_events(sessions: sessionmaker[Session]) -> None:
    log = AuditLog(sessions)
    log.append([{"type": "t", "n": i} for i in range(5)])
    assert log.verify().ok
    assert log.verify().events == 5
    with log.sessions.begin() as session:
        session.execute(text("update audit_events set body = replace(body, :old, :new) "
                             "where seq = 3"), {"old": '"n":2', "new": '"n":9'})
    assert [p.seq for p in log.verify().problems] == [3]
    with log.sessions.begin() as session:
        session.execute(text("delete from audit_events where seq = 5"))
    messages = " ".join(p.message for p in log.verify().problems)
    assert "removed" in messages
    with log.sessions.begin() as session:
        session.execute(text("delete from audit_events where seq = 2"))
    assert "missing" in " ".join(p.message for p in log.verify().problems)


def test_concurrent_writers_keep_one_chain(db_url: str, sessions: sessionmaker[Session]) -> None:
    other = open_store(db_url, migrate=False)  # a second "worker" with its own engine
    logs = [AuditLog(sessions), AuditLog(other)]
    try:
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda i: logs[i % 2].append([{"type": "w", "i": i}]), range(40)))
    finally:
        close_store(other)
    report = logs[0].verify()
    assert report.ok
    assert report.events == 40


def test_strikes_are_shared_through_redis(redis_url: str) -> None:
    async def scenario() -> tuple[float, float]:
        first, second = RedisStrikeStore(redis_url), RedisStrikeStore(redis_url)
        account = "acct_" + secrets.token_hex(4)
        try:
            await first.add(account, 3.0, 1000.0, 3600.0)
            total = await second.add(account, 2.0, 1000.0, 3600.0)
            decayed = await first.score(account, 4600.0, 3600.0)
        finally:
            await first.close()
            await second.close()
        return total, decayed
    total, decayed = asyncio.run(scenario())
    assert total == pytest.approx(5.0)
    assert decayed == pytest.approx(2.5)


@pytest.mark.parametrize("backend", ["sqlite"])  # the workers share one SQLite file
def test_rate_limits_hold_across_workers(gateway_factory: GatewayFactory, tmp_path: Path,
                                         redis_url: str) -> None:
    db = f"sqlite:///{tmp_path}/shared.db"
    one = gateway_factory(db=db, redis_url=redis_url)
    two = gateway_factory(db=db, redis_url=redis_url)
    store = one.accounts
    store.create_account("limited")
    _, key = store.create_key("limited", requests_per_minute=5)
    statuses = []
    with one.client(key) as a, two.client(key) as b:
        for i in range(8):
            client = a if i % 2 else b
            statuses.append(client.post("/chat/completions", json={
                "model": "m", "messages": [{"role": "user", "content": f"hi {i}"}]})
                .status_code)
    assert statuses[:5] == [200] * 5
    assert set(statuses[5:]) == {429}


@pytest.mark.parametrize("backend", ["sqlite"])
def test_parallel_uncapped_answers_share_the_room_across_workers(
        gateway_factory: GatewayFactory, tmp_path: Path, redis_url: str,
        upstream: tuple[ScriptedUpstream, str]) -> None:
    """An uncapped answer's cap is promised (held back from the room later requests see)
    until it is charged. Promises were kept per process, so each worker could promise the
    whole room once; with Redis they are kept there."""
    upstream[0].script("slow tea", Turn(content="Tea.", delay=0.5))
    db = f"sqlite:///{tmp_path}/shared.db"
    one = gateway_factory(db=db, redis_url=redis_url)
    two = gateway_factory(db=db, redis_url=redis_url)
    one.accounts.create_account("parallel")
    _, key = one.accounts.create_key("parallel", tokens_per_minute=400)
    with one.client(key) as a, two.client(key) as b, ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda i: (a if i % 2 else b).post(
            "/chat/completions", json={"model": "m", "messages": [
                {"role": "user", "content": f"slow tea number {i}"}]}), range(6)))
    caps = [r.get("max_completion_tokens") for r in upstream[0].requests
            if "slow tea" in str(r.get("messages"))]
    served = [r for r in answers if r.status_code == 200]
    assert len(served) == len([cap for cap in caps if cap]) >= 1
    assert {r.status_code for r in answers} <= {200, 429}
    assert sum(cap for cap in caps if cap) < 400  # before: 1,155 (each worker gave the room)


def test_strikes_in_the_database_are_shared_and_atomic(db_url: str,
                                                       sessions: sessionmaker[Session]) -> None:
    other = open_store(db_url, migrate=False)  # a second "worker" with its own engine

    async def scenario() -> tuple[float, float, int, BlockHistory]:
        first, second = SqlStrikeStore(sessions), SqlStrikeStore(other)
        await asyncio.gather(*(store.add("acct_x", 1.0, 1000.0, 3600.0)
                               for store in [first, second] * 10))
        decayed = await second.score("acct_x", 4600.0, 3600.0)
        for at in (10.0, 20.0, 30.0):
            await first.note_severe("acct_x", at, 25.0)
        severe = await second.note_severe("acct_x", 40.0, 25.0)
        await first.note_block("acct_x", "ab" * 64, 50.0, 60.0, 5)
        history = await second.note_block("acct_x", "cd" * 64, 55.0, 60.0, 5)
        return await first.score("acct_x", 1000.0, 3600.0), decayed, severe, history

    try:
        total, decayed, severe, history = asyncio.run(scenario())
    finally:
        close_store(other)
    assert total == pytest.approx(20.0)
    assert decayed == pytest.approx(10.0)
    assert severe == 3  # 10.0 fell out of the 25 s window
    assert history == BlockHistory(1, ("ab" * 64,))
