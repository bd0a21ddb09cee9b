"""Monitoring: the audit chain and its writer, metrics, events, detectors, alerts, incidents."""

from bastion.monitor._alert import SEVERITY_RANK, Alert, Evidence, Severity
from bastion.monitor._anchor import (
    ANCHOR_ENV,
    KEY_ENV,
    Checkpoint,
    FileAnchor,
    audit_key,
)
from bastion.monitor._audit import (
    GENESIS,
    AuditLog,
    Problem,
    VerifyReport,
    canonical,
    chain_hash,
)
from bastion.monitor._baseline import Baseline
from bastion.monitor._detector import (
    Detector,
    DetectorSettings,
    StateEntry,
    build_detectors,
    detector_class,
    detector_names,
    register_detector,
)
from bastion.monitor._event import MonitorEvent, events_from_request, read_jsonl, write_jsonl
from bastion.monitor._eventstore import BUCKET_S, EventStore, Point, Top
from bastion.monitor._incident import (
    STATUSES,
    Incident,
    IncidentBook,
    Status,
    group_alert,
)
from bastion.monitor._incidentstore import IncidentStore
from bastion.monitor._live import LiveMonitor, StoreTail
from bastion.monitor._metrics import CONTENT_TYPE, Metrics
from bastion.monitor._statestore import DetectorStateStore
from bastion.monitor._tables import (
    AlertRow,
    DetectorStateRow,
    IncidentRow,
    MonitorEventRow,
    MonitorRollup,
)
from bastion.monitor._watch import Replay, Watcher, replay
from bastion.monitor._webhook import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    Delivery,
    Webhook,
    sign,
    verify_signature,
)
from bastion.monitor._writer import AuditWriter, BatchLog

__all__ = [
    "ANCHOR_ENV",
    "BUCKET_S",
    "CONTENT_TYPE",
    "GENESIS",
    "KEY_ENV",
    "SEVERITY_RANK",
    "SIGNATURE_HEADER",
    "STATUSES",
    "TIMESTAMP_HEADER",
    "Alert",
    "AlertRow",
    "AuditLog",
    "AuditWriter",
    "Baseline",
    "BatchLog",
    "Checkpoint",
    "Delivery",
    "Detector",
    "DetectorSettings",
    "DetectorStateRow",
    "DetectorStateStore",
    "EventStore",
    "Evidence",
    "FileAnchor",
    "Incident",
    "IncidentBook",
    "IncidentRow",
    "IncidentStore",
    "LiveMonitor",
    "Metrics",
    "MonitorEvent",
    "MonitorEventRow",
    "MonitorRollup",
    "Point",
    "Problem",
    "Replay",
    "Severity",
    "StateEntry",
    "Status",
    "StoreTail",
    "Top",
    "VerifyReport",
    "Watcher",
    "Webhook",
    "audit_key",
    "build_detectors",
    "canonical",
    "chain_hash",
    "detector_class",
    "detector_names",
    "events_from_request",
    "group_alert",
    "read_jsonl",
    "register_detector",
    "replay",
    "sign",
    "verify_signature",
    "write_jsonl",
]
