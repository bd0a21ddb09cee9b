"""The dedupe vectors of every finding, held in memory and loaded incrementally.

A finding's transcript never changes after submission, so its vectors change only when they
are made again by another embedder (``bastion findings refresh-vectors``). The index loads
them once (the first query reads every row, later ones only rows newer than the last it
saw). Rows made by a model other than the one this process runs are held but never compared;
while there are any, each query counts the rows of the current model and reloads everything
once that count shows a refresh. Which findings are duplicates does change, so that is read at
each query. At 50,000 findings the index holds about 150 MB (two 384-float vectors each).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bastion.findings._convert import utc
from bastion.findings._dedupe import Candidate, DedupeSettings, Fingerprint, from_blobs, rank
from bastion.findings._tables import FindingRow

_DIM = 384


@dataclass(frozen=True)
class Ranked:
    """Candidates of one finding, and how many findings were left out because another model
    made their vectors (they need ``bastion findings refresh-vectors``)."""

    candidates: list[Candidate]
    other_model: int


class VectorIndex:
    """Ids, submission times, exact keys, vectors, their models and whether each model read
    the attack (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._clear()

    def _clear(self) -> None:
        self.last = 0
        self.ids = np.zeros(0, np.int64)
        self.times = np.zeros(0, np.float64)
        self.hashes = np.zeros(0, object)
        self.models = np.zeros(0, object)
        self.read = np.zeros(0, bool)
        self.prompts = np.zeros((0, _DIM), np.float32)
        self.outputs = np.zeros((0, _DIM), np.float32)

    def _refresh(self, session: Session, model: str) -> None:
        current = self.models == model
        if not current.all():  # vectors remade elsewhere since they were loaded: load again
            remade = session.execute(select(func.count()).where(
                FindingRow.id <= self.last, FindingRow.vec_model == model)).scalar_one()
            if remade != int(current.sum()):
                self._clear()
        rows = session.execute(
            select(FindingRow.id, FindingRow.created_at, FindingRow.transcript_hash,
                   FindingRow.prompt_vec, FindingRow.output_vec, FindingRow.vec_model,
                   FindingRow.attack_read)
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
        self.models = np.concatenate([self.models, np.array([r.vec_model for r in rows],
                                                            object)])
        self.read = np.concatenate([self.read, np.array([r.attack_read is not False
                                                         for r in rows], bool)])
        self.prompts = np.vstack([self.prompts, from_blobs([r.prompt_vec for r in rows])])
        self.outputs = np.vstack([self.outputs, from_blobs([r.output_vec for r in rows])])
        self.last = int(self.ids[-1])

    def candidates(self, session: Session, row: FindingRow, settings: DedupeSettings,
                   limit: int, model: str) -> Ranked:
        """Earlier, non-duplicate findings the rule matches with ``row``, among those whose
        vectors ``model`` made (``row``'s own must be of ``model``)."""
        if row.prompt_vec is None or row.output_vec is None:
            return Ranked([], 0)
        assert row.vec_model == model, "remake the finding's own vectors first"
        duplicates = np.array(session.execute(select(FindingRow.id).where(
            FindingRow.duplicate_of.is_not(None))).scalars().all(), np.int64)
        with self._lock:
            self._refresh(session, model)
            earlier = ((self.ids != row.id) & (self.times <= _stamp(row.created_at))
                       & ~np.isin(self.ids, duplicates))
            comparable = self.models == model
            new = Fingerprint(row.transcript_hash, from_blobs([row.prompt_vec])[0],
                              from_blobs([row.output_vec])[0], model, row.attack_read is not False)
            found = rank(new, self.ids, self.hashes, self.prompts, self.outputs,
                         settings=settings, limit=limit, mask=earlier & comparable,
                         read=self.read)
            return Ranked(found, int(np.sum(earlier & ~comparable)))


def _stamp(value: datetime) -> float:
    aware = utc(value)
    assert aware is not None
    return aware.timestamp()
