"""Monitoring: the hash-chained audit log, its background writer, and Prometheus metrics."""

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
    "CONTENT_TYPE",
    "GENESIS",
    "AuditLog",
    "AuditWriter",
    "Metrics",
    "Problem",
    "VerifyReport",
    "canonical",
    "chain_hash",
]
