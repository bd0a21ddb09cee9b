"""Strike counters in the database: they survive restarts and are shared by every worker.

The default when no Redis is configured. Updates of a score take the row's write lock first
(``SELECT ... FOR UPDATE`` in PostgreSQL, the database write lock in SQLite), so concurrent
workers add strikes without losing any. Reading a level is one ``SELECT`` and writes nothing.
"""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bastion.accounts._counters import BlockHistory, StrikeStore, answers_of, decay
from bastion.errors import RuntimeFailure
from bastion.store import AbuseMark, AbuseScore

_KEEP_MARKS_S = 2 * 86_400.0
"""Marks older than this (and older than the window asked about) are pruned."""


class SqlStrikeStore(StrikeStore):
    """Scores and marks in the ``abuse_scores`` and ``abuse_marks`` tables.

    Args:
        sessions: the store's session factory (the gateway's database).
    """

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    async def _run(self, func_: Any, *args: Any) -> Any:
        try:
            return await anyio.to_thread.run_sync(func_, *args)
        except SQLAlchemyError as exc:
            raise RuntimeFailure(f"strike counter store (database) failed: "
                                 f"{type(exc).__name__}") from exc

    async def add(self, account: str, amount: float, now: float, half_life: float) -> float:
        """See :meth:`StrikeStore.add`."""
        return float(await self._run(self._add, account, amount, now, half_life))

    def _add(self, account: str, amount: float, now: float, half_life: float) -> float:
        for attempt in range(3):
            try:
                with self.sessions.begin() as session:
                    session.execute(update(AbuseScore).where(AbuseScore.account_id == account)
                                    .values(score=AbuseScore.score))  # take the lock first
                    row = session.execute(select(AbuseScore).where(
                        AbuseScore.account_id == account).with_for_update()).scalar_one_or_none()
                    if row is None:
                        row = AbuseScore(account_id=account, score=0.0, at=now)
                        session.add(row)
                    row.score = decay(row.score, now - row.at, half_life) + amount
                    row.at = max(row.at, now)
                    return row.score
            except IntegrityError:  # two workers created the row at once: the loser retries
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def score(self, account: str, now: float, half_life: float) -> float:
        """See :meth:`StrikeStore.score` (read only)."""
        return float(await self._run(self._score, account, now, half_life))

    def _score(self, account: str, now: float, half_life: float) -> float:
        with self.sessions() as session:
            row = session.get(AbuseScore, account)
            return 0.0 if row is None else decay(row.score, now - row.at, half_life)

    async def note_block(self, account: str, fingerprint: str, now: float, window: float,
                         keep: int) -> BlockHistory:
        """See :meth:`StrikeStore.note_block`."""
        result: BlockHistory = await self._run(self._note_block, account, fingerprint, now,
                                               window, keep)
        return result

    def _note_block(self, account: str, fingerprint: str, now: float, window: float,
                    keep: int) -> BlockHistory:
        mine = (AbuseMark.account_id == account) & (AbuseMark.kind == "block")
        with self.sessions.begin() as session:
            recent = session.execute(select(func.count()).select_from(AbuseMark).where(
                mine, AbuseMark.at > now - window)).scalar_one()
            prints = session.execute(select(AbuseMark.fingerprint).where(mine).order_by(
                AbuseMark.at.desc(), AbuseMark.id.desc()).limit(keep)).scalars().all()
            session.add(AbuseMark(account_id=account, kind="block", at=now,
                                  fingerprint=fingerprint))
            session.execute(delete(AbuseMark).where(
                mine, AbuseMark.at < now - max(window, _KEEP_MARKS_S)))
            return BlockHistory(int(recent), tuple(p for p in prints if p))

    async def note_severe(self, account: str, now: float, window: float) -> int:
        """See :meth:`StrikeStore.note_severe`."""
        return int(await self._run(self._note_severe, account, now, window))

    def _note_severe(self, account: str, now: float, window: float) -> int:
        mine = (AbuseMark.account_id == account) & (AbuseMark.kind == "severe")
        with self.sessions.begin() as session:
            session.add(AbuseMark(account_id=account, kind="severe", at=now))
            session.execute(delete(AbuseMark).where(mine, AbuseMark.at <= now - window))
            session.flush()
            return int(session.execute(select(func.count()).select_from(AbuseMark)
                                       .where(mine)).scalar_one())

    async def reset(self, account: str) -> None:
        """See :meth:`StrikeStore.reset`."""
        await self._run(self._reset, account)

    def _reset(self, account: str) -> None:
        with self.sessions.begin() as session:
            reset_in(session, account)


def reset_in(session: Session, account: str) -> None:
    """Forget an account's strikes and marks inside the caller's transaction."""
    session.execute(delete(AbuseScore).where(
        AbuseScore.account_id.in_([account, answers_of(account)])))
    session.execute(delete(AbuseMark).where(AbuseMark.account_id == account))
