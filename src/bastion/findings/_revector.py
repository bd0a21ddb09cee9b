"""Dedupe vectors made again when the shipped embedder changes.

A finding's vectors are made at submission by the model Bastion ships then. When a release
ships another model, the stored vectors are no longer comparable with new ones: dedupe leaves
them out (and says how many) until :func:`refresh_vectors` has made them again from the
stored transcripts, a batch at a time so memory stays flat and an interrupted run keeps what
it finished.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import ColumnElement, func, or_, select, true
from sqlalchemy.orm import Session, sessionmaker

from bastion.classify import embedder_id
from bastion.findings._dedupe import Fingerprint, fingerprints, to_blob
from bastion.findings._tables import FindingRow

#: Findings embedded per transaction by default.
BATCH = 256


def _chosen(model: str, everything: bool) -> ColumnElement[bool]:
    """Findings whose vectors ``model`` did not make (no recorded model counts as another),
    or every finding."""
    if everything:
        return true()
    return or_(FindingRow.vec_model.is_(None), FindingRow.vec_model != model)


def count_to_refresh(session: Session, model: str, *, everything: bool = False) -> int:
    """How many findings :func:`refresh_vectors` would remake."""
    return int(session.execute(select(func.count()).select_from(FindingRow).where(
        _chosen(model, everything))).scalar_one())


def store_fingerprint(row: FindingRow, mark: Fingerprint) -> None:
    """Write a fingerprint into its finding's row."""
    row.transcript_hash = mark.transcript_hash
    row.prompt_vec, row.output_vec = to_blob(mark.prompt_vec), to_blob(mark.output_vec)
    row.vec_model, row.attack_read = mark.model, mark.attack_read


def refresh_vectors(sessions: sessionmaker[Session], *, batch: int = BATCH,
                    everything: bool = False,
                    progress: Callable[[int], None] | None = None) -> int:
    """Make again, with the shipped embedder, the vectors of every finding it did not make
    (of every finding with ``everything``: after a change in how attacks are read); the count.

    Each batch (``batch`` findings, oldest first) is embedded and written in its own
    transaction; ``progress`` is called with the running count after each.
    """
    model, done, after = embedder_id(), 0, 0
    while True:
        with sessions.begin() as session:
            rows = list(session.execute(
                select(FindingRow).where(FindingRow.id > after, _chosen(model, everything))
                .order_by(FindingRow.id).limit(batch)).scalars())
            if not rows:
                return done
            for row, mark in zip(rows, fingerprints([r.transcript for r in rows]), strict=True):
                store_fingerprint(row, mark)
            after = rows[-1].id
        done += len(rows)
        if progress is not None:
            progress(done)
