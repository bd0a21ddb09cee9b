"""What the detectors learned, kept in the store so a restart does not forget it.

Each detector dumps its state per key (an account, a route, a category...) as JSON
(:meth:`~bastion.monitor.Detector.dump_state`); :class:`DetectorStateStore` writes the keys
that changed since the last save, one row per (detector, key), and loads them into a new
watcher at start. Without it, every baseline relearns after a restart (an attack in the first
hour goes unseen) and a slow attacker's history is forgotten.

Eviction is by stream time: a key whose newest event is older than ``max_age_s`` before the
detector's newest is deleted, and each detector keeps at most ``max_keys`` keys (the newest).
State written under other settings (a digest of the detector's class and settings) is not
loaded: a changed bucket length would misread it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from bastion.monitor._detector import Detector
from bastion.monitor._tables import DetectorStateRow

logger = logging.getLogger("bastion.monitor")

TAIL = "_tail"
"""The reserved detector name under which a store tail's position is kept."""
MAX_AGE_S = 7 * 86_400.0
MAX_KEYS = 50_000
_CHUNK = 200


def fingerprint(detector: Detector) -> str:
    """A digest of a detector's class and settings (state is only loaded under the same)."""
    cls = type(detector)
    text = f"{cls.__module__}.{cls.__qualname__}:{detector.settings.model_dump_json()}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _text(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


class DetectorStateStore:
    """Loads and saves detector state (and a store tail's position).

    Lifetime: one per watcher, in the process that feeds it. Concurrency: call from one thread
    (the one feeding the detectors). Failure: database errors propagate from :meth:`load` and
    :meth:`save`; a failed save changes nothing, so the next save writes the same keys again.

    Args:
        sessions: the store's session factory.
        max_age_s: keys idle this long in stream time (before the detector's newest event)
            are evicted.
        max_keys: the most keys kept per detector (the most recently active).
    """

    def __init__(self, sessions: sessionmaker[Session], *, max_age_s: float = MAX_AGE_S,
                 max_keys: int = MAX_KEYS) -> None:
        self.sessions = sessions
        self.max_age_s, self.max_keys = max_age_s, max_keys
        self.position: int | None = None
        self._saved: dict[tuple[str, str], str] = {}
        self._since: dict[str, float] = {}

    def load(self, detectors: Sequence[Detector]) -> int:
        """Resume each detector from its saved keys (and read the tail position); how many
        keys were loaded. A detector that cannot read its state is logged and runs on with
        what it read."""
        loaded = 0
        with self.sessions() as session:
            for detector in detectors:
                rows = session.execute(
                    select(DetectorStateRow)
                    .where(DetectorStateRow.detector == detector.name,
                           DetectorStateRow.settings == fingerprint(detector))
                    .order_by(DetectorStateRow.at.desc()).limit(self.max_keys)).scalars().all()
                if not rows:
                    continue
                newest = rows[0].at
                rows = [r for r in rows if r.at >= newest - self.max_age_s]
                try:
                    detector.load_state({r.key: r.data for r in rows})
                except Exception:
                    logger.exception("detector %r could not read its saved state",
                                     detector.name)
                    continue
                self._saved.update({(detector.name, r.key): _text(r.data) for r in rows})
                self._since[detector.name] = newest
                loaded += len(rows)
            tail = session.get(DetectorStateRow, (TAIL, "position"))
        if tail is not None:
            self.position = int(tail.data["position"])
        return loaded

    def save(self, detectors: Sequence[Detector], *, position: int | None = None) -> int:
        """Write the keys that changed since the last save (and the tail position), in one
        transaction, and evict stale keys; how many keys were written."""
        rows: list[dict[str, Any]] = []
        texts: dict[tuple[str, str], str] = {}
        newest: dict[str, float] = {}
        for detector in detectors:
            since = self._since.get(detector.name, -math.inf)
            entries = detector.dump_state(since)
            if not entries:
                continue
            top = newest[detector.name] = max(since, *(e.at for e in entries.values()))
            digest = fingerprint(detector)
            for key, entry in entries.items():
                text = _text(entry.data)
                if entry.at < top - self.max_age_s or self._saved.get((detector.name, key)) == text:
                    continue
                texts[detector.name, key] = text
                rows.append({"detector": detector.name, "key": key, "settings": digest,
                             "at": entry.at, "data": entry.data})
        if position is not None and position != self.position:
            rows.append({"detector": TAIL, "key": "position", "settings": "", "at": 0.0,
                         "data": {"position": position}})
        if not rows:
            return 0
        with self.sessions.begin() as session:
            self._upsert(session, rows)
            for name, top in newest.items():
                self._evict(session, name, top)
        self._saved.update(texts)
        self._since.update(newest)
        if position is not None:
            self.position = position
        return len(texts)

    def _upsert(self, session: Session, rows: list[dict[str, Any]]) -> None:
        insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        table = DetectorStateRow.__table__
        assert isinstance(table, Table)
        for start in range(0, len(rows), _CHUNK):
            stmt = insert(table).values(rows[start:start + _CHUNK])
            session.execute(stmt.on_conflict_do_update(
                index_elements=["detector", "key"],
                set_={c: stmt.excluded[c] for c in ("settings", "at", "data")}))

    def _evict(self, session: Session, name: str, newest: float) -> None:
        """Delete a detector's keys idle past ``max_age_s``, and all but the newest
        ``max_keys``."""
        row = DetectorStateRow
        cutoff = newest - self.max_age_s
        over = session.execute(select(row.at).where(row.detector == name)
                               .order_by(row.at.desc()).offset(self.max_keys).limit(1)
                               ).scalar_one_or_none()
        if over is not None:
            cutoff = max(cutoff, math.nextafter(over, math.inf))
        session.execute(delete(row).where(row.detector == name, row.at < cutoff))
