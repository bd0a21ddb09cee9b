"""One request's record: who, which route, what each check said, what happened.

:meth:`Context.finish` turns the record into exactly one audit event and the metrics, however
the request ended (answered, refused, failed, or the client left mid-stream).
"""

from __future__ import annotations

import functools
import hashlib
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bastion.accounts import AbuseDecision, Principal
from bastion.gateway._config import RouteName
from bastion.gateway._guard import Check, Direction, header_value
from bastion.gateway._state import Gateway
from bastion.policy import Policy
from bastion.redact import Detectors, Vault

logger = logging.getLogger("bastion.gateway")


@dataclass
class Context:
    """The record of one request (see the module docstring)."""

    gateway: Gateway
    route: RouteName | str
    request_id: str = field(default_factory=lambda: "req_" + secrets.token_hex(12))
    started: float = field(default_factory=time.perf_counter)
    principal: Principal | None = None
    model: str | None = None
    stream: bool = False
    checks: list[Check] = field(default_factory=list)
    status: int = 200
    outcome: str = "allowed"
    reason: str | None = None
    upstream_ms: float | None = None
    abuse: AbuseDecision | None = None
    content: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    body: dict[str, Any] = field(default_factory=dict)
    """The request body as sent upstream (never audited; a response's echoes are compared
    with it)."""
    ticket: int | None = None
    """This request's place among its account's input checks (``Gateway.order``)."""
    #: Answer tokens charged with the prompt (see ``_admit.reserved_output``).
    reserved_tokens: int = 0
    #: The prompt's tokens as estimated and charged (see ``_admit.charge_completion``).
    prompt_tokens: int = 0
    #: Gives back the room promised to an uncapped answer (``_admit.cap_to_budget``); run by
    #: :meth:`finish`, after the answer was charged.
    release_promise: Callable[[], None] | None = None
    #: Gives back the account's place among its requests in progress
    #: (``_admit.hold_place``); run by :meth:`finish`.
    release_place: Callable[[], None] | None = None
    policies: dict[str, Policy] = field(default_factory=dict)
    """The gateway's policies when the request started: a policy published meanwhile applies
    to the next request, never half-way through this one."""
    _done: bool = False

    def __post_init__(self) -> None:
        self.policies = self.gateway.policies

    def policy(self, direction: Direction) -> Policy:
        """The policy this request checks one direction with."""
        return self.policies[self.gateway.config.policy_for(self.route, direction)]

    def sees_rules(self) -> bool:
        """Whether this caller's refusals name the rules that matched: its role is in
        ``refusal.rule_ids_for`` (operators and red-teamers debug policies; a user key
        probing them learns only the categories, see ``_respond.policy_details``)."""
        return self.principal is not None \
            and self.principal.account.role in self.gateway.config.refusal.rule_ids_for

    def add(self, check: Check) -> Check:
        """Record a check and count it."""
        self.checks.append(check)
        metrics = self.gateway.metrics
        metrics.checks.labels(check.direction, check.outcome).inc()
        metrics.classifier_latency.labels(check.direction).observe(check.latency_ms / 1000)
        for verdict in check.violations:
            for category in verdict.violated:
                metrics.verdicts.labels(check.direction, category.code, category.action).inc()
        if check.outcome == "fail_open":
            metrics.fail_opens.labels(self.route, check.direction).inc()
        if check.outcome == "block":
            metrics.blocks.labels(self.route, check.direction).inc()
        return check

    def expected(self) -> list[tuple[Direction, Policy]]:
        """The checks this route runs: input everywhere, output on generation routes."""
        if self.route not in ("chat", "completions", "embeddings", "moderations", "responses"):
            return []
        out: list[tuple[Direction, Policy]] = [("input", self.policy("input"))]
        if self.route in ("chat", "completions", "responses"):
            out.append(("output", self.policy("output")))
        return out

    def keep_content(self, texts: list[str]) -> None:
        """Keep request content for the audit log as the settings say (drop/redact/hash)."""
        mode = self.gateway.config.audit.content
        if mode == "hash":
            self.content = [hashlib.sha256(t.encode("utf-8", "surrogatepass")).hexdigest()
                            for t in texts]
        elif mode == "redact":
            vault = Vault(self.gateway.detectors)
            self.content = vault.mask_split([vault.mask(t) for t in texts])

    def finish(self) -> None:
        """Submit the audit event and count the request (once)."""
        if self._done:
            return
        self._done = True
        if self.release_promise is not None:
            self.release_promise()
        if self.release_place is not None:
            self.release_place()
        gateway = self.gateway
        gateway.metrics.requests.labels(self.route, str(self.status)).inc()
        event = self.event()
        gateway.audit.submit(event)
        if gateway.monitor is not None:
            gateway.monitor.submit({**event, "ended_at": time.time()})
        gateway.metrics.audit_pending.set(gateway.audit.pending)

    def event(self) -> dict[str, Any]:
        """The audit event: ids, route, checks, outcome, latency; never keys or raw text."""
        principal = self.principal
        event: dict[str, Any] = {
            "type": "gateway.request", "request_id": self.request_id,
            "account_id": principal.account.id if principal else None,
            "key_id": principal.key.id if principal else None,
            "route": self.route, "model": self._model_name(), "stream": self.stream,
            "status": self.status, "outcome": self.outcome, "reason": self.reason,
            "checks": [c.summary() for c in self.checks],
            "check_outcomes": header_value(self.checks, self.expected()),
            "latency_ms": round((time.perf_counter() - self.started) * 1000, 3),
            "upstream_ms": None if self.upstream_ms is None else round(self.upstream_ms, 3),
        }
        if self.abuse is not None:
            event["abuse"] = {"strikes": self.abuse.strikes, "score": self.abuse.score,
                              "level": self.abuse.level, "reasons": list(self.abuse.reasons),
                              "exempt": self.abuse.exempt}
        if self.content:
            event["content"] = self.content
            found = self._violating_text()
            if found is not None:
                event["content_violating"] = found
        return {**event, **self.extra}

    def _model_name(self) -> Any:
        """The requested model, with any secret or personal value in it masked (a key sent
        as ``model`` was masked for the upstream but kept whole in the audit log)."""
        model = self.model
        return _masked_name(self.gateway.detectors, model) if isinstance(model, str) else model

    def _violating_text(self) -> int | None:
        """Which kept text the first input violation was about (the join counts as the last),
        so monitoring samples the attack, not a system prompt every account shares."""
        for check in self.checks:
            if check.direction != "input":
                continue
            for index, verdict in enumerate(check.verdicts):
                if verdict.kind == "violation":
                    return min(index, len(self.content) - 1)
        return None


@functools.lru_cache(maxsize=1024)
def _masked_name(detectors: Detectors, name: str) -> str:
    """``name`` with its secret or personal values masked: every request names a model, the
    same few, and every detector read it again (0.1 ms of the event loop's time each). A
    name is at most 200 characters (``_admit.MODEL_ID``)."""
    return Vault(detectors).mask(name)
