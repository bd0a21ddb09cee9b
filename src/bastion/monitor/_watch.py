"""The watcher: events in, alerts and incidents out; the same code live and on a replay."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any

from bastion.monitor._alert import Alert
from bastion.monitor._detector import Detector, build_detectors
from bastion.monitor._event import MonitorEvent
from bastion.monitor._incident import Incident, IncidentBook

logger = logging.getLogger("bastion.monitor")

BATCH = 2000


class Watcher:
    """Feeds events to every detector and files their alerts.

    Lifetime: one per stream (a service's, or one replay). Not thread-safe: the caller feeds
    it from one thread. Failure: a detector that raises is logged once and dropped, so one
    broken plugin cannot stop the others.

    Args:
        detectors: the detectors to run (default: every registered one, default settings).
        book: where alerts are filed (default: a new in-memory :class:`IncidentBook`).
        settings: per-detector settings when ``detectors`` is not given.
        shared: passed to :func:`build_detectors` (e.g. ``embed``).
    """

    def __init__(self, detectors: Sequence[Detector] | None = None, *,
                 book: IncidentBook | None = None,
                 settings: dict[str, dict[str, Any] | None] | None = None,
                 **shared: Any) -> None:
        self.detectors = list(detectors) if detectors is not None else build_detectors(
            settings, **shared)
        self.book = book or IncidentBook()
        self.events = 0

    def feed(self, events: Sequence[MonitorEvent]) -> list[Alert]:
        """Run every detector over ``events`` (time order); file and return the alerts."""
        self.events += len(events)
        alerts = self.detect(events)
        for alert in alerts:
            self.book.add(alert)
        return alerts

    def detect(self, events: Sequence[MonitorEvent]) -> list[Alert]:
        """Every detector's alerts for ``events``, in time order (not filed)."""
        alerts: list[Alert] = []
        for detector in list(self.detectors):
            try:
                alerts.extend(detector.observe(events))
            except Exception:
                logger.exception("detector %r failed and is switched off for this stream",
                                 detector.name)
                self.detectors.remove(detector)
        return sorted(alerts, key=lambda a: a.at)


@dataclass(frozen=True)
class Replay:
    """What a replay found."""

    events: int
    alerts: tuple[Alert, ...]
    incidents: tuple[Incident, ...]


def replay(events: Iterable[MonitorEvent], watcher: Watcher | None = None, *,
           batch: int = BATCH) -> Replay:
    """Run a recorded stream through a watcher (a fresh default one if not given)."""
    watcher = watcher or Watcher()
    found: list[Alert] = []
    stream = iter(events)
    while chunk := list(islice(stream, batch)):
        found.extend(watcher.feed(chunk))
    return Replay(watcher.events, tuple(found), tuple(watcher.book.list()))
