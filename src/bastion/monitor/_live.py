"""Live monitoring in the gateway: events stored, detectors run, incidents filed, webhooks sent.

The gateway hands each request's audit event to an :class:`~bastion.monitor.AuditWriter`
whose log is a :class:`LiveMonitor`: requests never wait, batches are written in a worker
thread, and database errors are retried with back-off. Per batch, :meth:`LiveMonitor.append`

1. turns ``gateway.request`` events into monitoring events and stores them with their rollups
   (a database error here is raised, so the writer retries the batch);
2. runs the detectors over them (one detector state per watcher, so with several gateway
   workers, give them ``watcher=None`` and run one :class:`StoreTail` instead: ``bastion
   monitor watch``);
3. files the alerts into incidents, and posts each new or updated incident to the webhook.
   Alerts whose filing fails are kept and filed with the next batch, never raised (the batch's
   events are stored already);
4. every ``save_every_s`` (and at :meth:`LiveMonitor.close`) saves what the detectors learned,
   with a tail's position, in one transaction (:class:`~bastion.monitor.DetectorStateStore`);
   a new monitor on the same store loads it, so a restart continues where it left off
   (losing at most the last ``save_every_s`` of learning after a crash). A failed save is
   logged and retried at the next one.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bastion.monitor._alert import Alert
from bastion.monitor._anchor import FileAnchor
from bastion.monitor._audit import AuditLog
from bastion.monitor._event import MonitorEvent, events_from_request
from bastion.monitor._eventstore import EventStore
from bastion.monitor._incident import Incident
from bastion.monitor._incidentstore import IncidentStore
from bastion.monitor._statestore import DetectorStateStore
from bastion.monitor._watch import Watcher
from bastion.monitor._webhook import Webhook

logger = logging.getLogger("bastion.monitor")


class LiveMonitor:
    """The gateway's monitoring sink (a :class:`~bastion.monitor.AuditWriter` log).

    Lifetime: one per gateway process. Concurrency: the writer calls :meth:`append` from one
    worker thread at a time. Failure: see the module docstring.

    Args:
        sessions: the store's session factory.
        audit: the audit chain (for incident changes).
        watcher: the detectors; ``None`` stores events without watching them (a
            :class:`StoreTail` elsewhere watches the store).
        webhook: where incidents are posted, if anywhere.
        samples: keep redacted prompt samples (only when the audit content is redacted).
        clock: the time stamped on events.
        resume: load the detectors' saved state (``False`` starts them cold; the saves
            then overwrite what they replace).
        save_every_s: least seconds between saves of the detectors' state (0: every batch).
    """

    anchor: FileAnchor | None = None

    def __init__(self, sessions: sessionmaker[Session], *, audit: AuditLog,
                 watcher: Watcher | None, webhook: Webhook | None = None,
                 samples: bool = False, clock: Callable[[], float] = time.time,
                 resume: bool = True, save_every_s: float = 5.0) -> None:
        self.events = EventStore(sessions)
        self.incidents = IncidentStore(sessions, audit=audit)
        self.watcher = watcher
        self.webhook, self.samples, self.clock = webhook, samples, clock
        self.pending: list[Alert] = []
        self.state = DetectorStateStore(sessions) if watcher is not None else None
        self.save_every_s = save_every_s
        self.position: int | None = None
        self._saved_at = -math.inf
        if self.state is not None and watcher is not None and resume:
            try:
                loaded = self.state.load(watcher.detectors)
            except SQLAlchemyError as exc:
                logger.error("the detectors' saved state could not be read (%s); they start "  # noqa: TRY400 - one line
                             "cold", type(exc).__name__)
            else:
                logger.info("detectors resumed %d saved key(s)", loaded)

    def append(self, batch: Sequence[dict[str, Any]]) -> int:
        """Store, watch and file one batch of audit events (see the module docstring)."""
        at = self.clock()
        events: list[MonitorEvent] = []
        for body in batch:
            if body.get("type") != "gateway.request":
                continue
            try:
                events.extend(events_from_request(body, at, samples=self.samples))
            except (TypeError, ValueError, AttributeError):
                logger.exception("request %s could not be read as monitoring events; skipped",
                                 body.get("request_id"))
        self.events.append(events)
        self.watch(events)
        return len(events)

    def watch(self, events: Sequence[MonitorEvent], *, position: int | None = None) -> None:
        """Run the detectors over stored events; file and announce what they raise.

        ``position`` is the id of the last of ``events`` in the store (a tail's), saved with
        the detectors' state.
        """
        if self.watcher is not None:
            self.pending.extend(self.watcher.detect(events))
        if self.pending:
            self._file()
        if position is not None:
            self.position = position
        if time.monotonic() - self._saved_at >= self.save_every_s:
            self.save()

    def save(self) -> None:
        """Save what the detectors learned (and the tail's position); errors are logged."""
        if self.state is None or self.watcher is None:
            return
        self._saved_at = time.monotonic()
        try:
            self.state.save(self.watcher.detectors, position=self.position)
        except SQLAlchemyError as exc:
            logger.error("saving the detectors' state failed (%s); retrying with the next "  # noqa: TRY400 - one line per retry
                         "save", type(exc).__name__)
        except Exception:
            logger.exception("saving the detectors' state failed")

    def _file(self) -> None:
        try:
            touched = self.incidents.record(self.pending)
        except SQLAlchemyError as exc:
            logger.error("filing %d alert(s) failed (%s); retrying with the next batch",  # noqa: TRY400 - one line per retry
                         len(self.pending), type(exc).__name__)
            return
        except Exception:
            # A bug must not stop the writer (and with it the gateway); the alerts are lost,
            # loudly, and the next ones are filed.
            logger.exception("filing %d alert(s) failed; they are dropped", len(self.pending))
            self.pending = []
            return
        new = {a.id for a in self.pending}
        self.pending = []
        for incident in touched:
            self._announce(incident, new)

    def _announce(self, incident: Incident, new: set[str]) -> None:
        logger.warning("incident %s (%s): %s", incident.id, incident.severity, incident.title)
        if self.webhook is None:
            return
        opened = len(incident.alerts) == len([a for a in incident.alerts if a.id in new])
        try:
            self.webhook.send({"event": "incident.opened" if opened else "incident.updated",
                               "incident": incident.to_json()})
        except Exception:  # delivery problems are returned, not raised; this is a bug
            logger.exception("webhook for incident %s failed", incident.id)

    def checkpoint(self) -> None:
        """Nothing to anchor (the audit chain anchors itself)."""

    def close(self) -> None:
        """Save the detectors' state and close the webhook's connections."""
        self.save()
        if self.webhook is not None:
            self.webhook.close()


class StoreTail:
    """Watches the events every gateway worker stores: one detector state for all of them.

    Lifetime: one process (``bastion monitor watch``) per database. Failure: database errors
    propagate from :meth:`poll` (the caller retries); the position is kept, so nothing is
    watched twice or skipped.

    Args:
        live: files and announces alerts (its watcher runs the detectors).
        from_start: watch the events already stored too (default: the events after the
            position saved by the last watcher on this store, else only new ones). Give it a
            monitor made with ``resume=False``, or the detectors count old events twice.
    """

    def __init__(self, live: LiveMonitor, *, from_start: bool = False) -> None:
        self.live = live
        saved = live.state.position if live.state is not None else None
        if from_start:
            self.position = 0
        elif saved is not None:
            self.position = min(saved, live.events.last_id())
        else:
            self.position = live.events.last_id()

    def poll(self, limit: int = 2000) -> int:
        """Watch the events stored since the last poll (up to ``limit``); how many."""
        found = self.live.events.after(self.position, limit=limit)
        if found:
            self.position = found[-1][0]
            self.live.watch([event for _, event in found], position=self.position)
        return len(found)
