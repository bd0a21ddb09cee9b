"""The dedupe vectors of every finding, held in memory and loaded incrementally.

A finding's transcript never changes after submission, so neither do its vectors: the index
loads them once (the first query reads every row, later ones only rows newer than the last
it saw). Which findings are duplicates does change, so that is read at each query. At 50,000
findings the index holds about 150 MB (two 384-float vectors each).
"""

from __future__ import annotations

import threading
from datetime import datetime

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from bastion.findings._convert import utc
from bastion.findings._dedupe import Candidate, DedupeSettings, Fingerprint, from_blobs, rank
from bastion.findings._tables import FindingRow

_DIM = 384


class VectorIndex:
    """Ids, submission times, exact keys and vectors of every finding (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.last = 0
        self.ids = np.zeros(0, np.int64)
        self.times = np.zeros(0, np.float64)
        self.hashes = np.zeros(0, object)
        self.prompts = np.zeros((0, _DIM), np.float32)
        self.outputs = np.zeros((0, _DIM), np.float32)

    def _refresh(self, session: Session) -> None:
        rows = session.execute(
            select(FindingRow.id, FindingRow.created_at, FindingRow.transcript_hash,
                   FindingRow.prompt_vec, FindingRow.output_vec)
            .where(FindingRow.id > self.last, FindingRow.prompt_vec.is_not(None),
                   FindingRow.output_vec.is_not(None))
            .order_by(FindingRow.id)).all()
        if not rows:
            return
        self.ids = np.concatenate([self.ids, np.array([r.id for r in rows], np.int64)])
        self.times = np.concatenate([self.times, np.array(
            [_stamp(r.created_at) for r in rows], np.float64)])
        self.hashes = np.concatenate([self.hashes, np.array([r.transcript_hash for r in rows],
                                                            object)])
        self.prompts = np.vstack([self.prompts, from_blobs([r.prompt_vec for r in rows])])
        self.outputs = np.vstack([self.outputs, from_blobs([r.output_vec for r in rows])])
        self.last = int(self.ids[-1])

    def candidates(self, session: Session, row: FindingRow, settings: DedupeSettings,
                   limit: int) -> list[Candidate]:
        """Earlier, non-duplicate findings the rule matches with ``row``."""
        if row.prompt_vec is None or row.output_vec is None:
            return []
        duplicates = np.array(session.execute(select(FindingRow.id).where(
            FindingRow.duplicate_of.is_not(None))).scalars().all(), np.int64)
        with self._lock:
            self._refresh(session)
            mask = ((self.ids != row.id) & (self.times <= _stamp(row.created_at))
                    & ~np.isin(self.ids, duplicates))
            new = Fingerprint(row.transcript_hash, from_blobs([row.prompt_vec])[0],
                              from_blobs([row.output_vec])[0])
            return rank(new, self.ids, self.hashes, self.prompts, self.outputs,
                        settings=settings, limit=limit, mask=mask)


def _stamp(value: datetime) -> float:
    aware = utc(value)
    assert aware is not None
    return aware.timestamp()
