"""Monitoring: the keyed, anchored audit chain, its background writer, Prometheus metrics."""

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
from bastion.monitor._metrics import CONTENT_TYPE, Metrics
from bastion.monitor._writer import AuditWriter

__all__ = [
    "ANCHOR_ENV",
    "CONTENT_TYPE",
    "GENESIS",
    "KEY_ENV",
    "AuditLog",
    "AuditWriter",
    "Checkpoint",
    "FileAnchor",
    "Metrics",
    "Problem",
    "VerifyReport",
    "audit_key",
    "canonical",
    "chain_hash",
]
