"""Prometheus metrics of one gateway, on a registry of its own (no global state)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

_LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
                    5.0, 10.0, 30.0)

CONTENT_TYPE = CONTENT_TYPE_LATEST
"""The media type of :meth:`Metrics.render`."""


class Metrics:
    """The gateway's counters and histograms.

    Lifetime: one per app. Concurrency: prometheus_client metrics are thread-safe. Several
    worker processes each expose their own; sum them in Prometheus.
    """

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter("bastion_gateway_requests", "Requests answered.",
                                ["route", "status"], registry=r)
        self.verdicts = Counter("bastion_gateway_verdicts", "Violated categories by action.",
                                ["direction", "category", "action"], registry=r)
        self.checks = Counter("bastion_gateway_checks", "Checks run, by outcome.",
                              ["direction", "outcome"], registry=r)
        self.blocks = Counter("bastion_gateway_blocks", "Requests or streams blocked.",
                              ["route", "direction"], registry=r)
        self.fail_opens = Counter("bastion_gateway_fail_opens",
                                  "Classifier failures let through by a fail-open route.",
                                  ["route", "direction"], registry=r)
        self.suspensions = Counter("bastion_gateway_suspensions",
                                   "Accounts suspended by the abuse monitor.", registry=r)
        self.rate_limited = Counter("bastion_gateway_rate_limited", "Requests refused 429.",
                                    ["reason"], registry=r)
        self.classifier_latency = Histogram(
            "bastion_gateway_classifier_seconds", "Classifier time per check.", ["direction"],
            buckets=_LATENCY_BUCKETS, registry=r)
        self.upstream_latency = Histogram(
            "bastion_gateway_upstream_seconds", "Upstream time to response headers.",
            ["route"], buckets=_LATENCY_BUCKETS, registry=r)
        self.audit_written = Counter("bastion_gateway_audit_events_written",
                                     "Audit events written.", registry=r)
        self.audit_pending = Gauge("bastion_gateway_audit_events_pending",
                                   "Audit events queued, not yet written.", registry=r)

    def render(self) -> bytes:
        """The Prometheus text exposition."""
        return generate_latest(self.registry)
