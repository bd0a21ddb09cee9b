"""Checks: classify texts against a policy, with a deadline, and name the outcome.

Outcomes, strongest first: ``block``, ``error`` (the classifier failed and the route fails
closed), ``fail_open`` (it failed and the route lets it through), ``redact``, ``flag``,
``pass``. A check that did not run is ``skipped`` and one still running at the time the
headers leave (a stream's output) is ``pending``; neither is ever shown as ``pass``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal

import anyio

from bastion.classify import (
    Classifier,
    Verdict,
    classify_within,
    error_verdict,
    get_classifier,
    unreadable_texts,
)
from bastion.gateway._batch import Batcher
from bastion.gateway._config import ClassifierConfig
from bastion.policy import ACTION_RANK, Action, Policy

logger = logging.getLogger("bastion.gateway")

Direction = Literal["input", "output"]
Outcome = Literal["pass", "flag", "redact", "block", "error", "fail_open", "skipped", "pending"]


@dataclass
class Check:
    """One check of one direction of a request.

    Attributes:
        verdicts: one per text checked (fields, then the fields joined).
        latency_ms: wall time of the check, including waiting for the classifier.
    """

    direction: Direction
    policy: Policy
    outcome: Outcome
    verdicts: list[Verdict] = field(default_factory=list)
    latency_ms: float = 0.0

    @property
    def label(self) -> str:
        """``input/default=pass``: how the check appears in the response header."""
        return f"{self.direction}/{self.policy.id}={self.outcome}"

    def settle_masking(self, masked: int) -> None:
        """Make the outcome say what masking did: ``redact`` once a value was masked (the
        gateway's detectors run under every redacting policy, whatever the classifier said),
        ``flag`` when the classifier asked for redaction but no value could be located, so
        the text went on unchanged (the header used to say ``redact`` all the same)."""
        if masked and self.outcome in ("pass", "flag"):
            self.outcome = "redact"
        elif not masked and self.outcome == "redact":
            self.outcome = "flag"

    @property
    def violations(self) -> list[Verdict]:
        """The verdicts that violate the policy."""
        return [v for v in self.verdicts if v.kind == "violation"]

    def summary(self) -> dict[str, Any]:
        """What the audit log keeps: codes, rules, actions, scores; never the text."""
        hit = {c.code: c for v in self.verdicts for c in v.violated}
        return {
            "direction": self.direction, "outcome": self.outcome,
            "policy": {"id": self.policy.id, "version": self.policy.version,
                       "hash": self.policy.hash},
            "categories": sorted(hit), "rule_ids": sorted({r for v in self.verdicts
                                                           for r in v.rule_ids}),
            "score": max((v.score for v in self.verdicts), default=0.0),
            "tiers": sorted({v.tier for v in self.verdicts}),
            "errors": sorted({v.error for v in self.verdicts if v.error}),
            "signals": sorted({s for v in self.verdicts for s in v.meta.get("signals", ())
                               if v.kind == "violation"}),
            "latency_ms": round(self.latency_ms, 3),
        }


def outcome_of(verdicts: Sequence[Verdict], *, fail_open: bool) -> Outcome:
    """The outcome a set of verdicts leads to."""
    action: Action = "allow"
    for verdict in verdicts:
        if verdict.kind == "violation" and ACTION_RANK[verdict.action] > ACTION_RANK[action]:
            action = verdict.action
    if action == "block":
        return "block"
    if any(v.is_error for v in verdicts):
        return "fail_open" if fail_open else "error"
    return {"allow": "pass", "flag": "flag", "redact": "redact"}[action]  # type: ignore[return-value]


class Guard:
    """Runs checks with the configured tier and a deadline.

    Lifetime: one per gateway; the classifier is shared (see ``get_classifier``).
    Concurrency: safe for concurrent requests. Failure: a classifier error or a missed
    deadline becomes an error verdict, never an exception.
    """

    def __init__(self, config: ClassifierConfig) -> None:
        self.config = config
        self.classifier = get_classifier(config.tier, **config.options)
        self._batcher: Batcher | None = None

    def warm(self, policy: Policy) -> None:
        """Load the classifier's model now (blocking), so no request waits for it: a first
        call that loads a model can take longer than the check deadline."""
        try:
            self.classifier.classify(["Bastion is starting."], policy)
        except Exception as exc:  # the backend may come up later; checks fail closed till then
            logger.warning("classifier warm-up failed (%s); checks will retry it",
                           type(exc).__name__)

    @property
    def batcher(self) -> Batcher:
        """The batcher (made on first use: it belongs to the running event loop)."""
        if self._batcher is None:
            self._batcher = Batcher(self._run, concurrency=self.config.concurrency,
                                    max_texts=self.config.max_batch,
                                    timeout_s=self.config.timeout_s)
        return self._batcher

    async def classify(self, texts: list[str], policy: Policy) -> list[Verdict]:
        """One verdict per text; error verdicts on failure or timeout."""
        if not texts:
            return []
        message = f"classifier did not answer within {self.config.timeout_s:g} s"
        with anyio.move_on_after(self.config.timeout_s):
            found = await self.batcher.classify(texts, policy)
            if found is not None:
                return found
            message = "classifier failed (see the gateway log)"
        return [error_verdict(policy, self.classifier.name, message) for _ in texts]

    async def _run(self, texts: list[str], policy: Policy) -> list[Verdict]:
        if type(self.classifier).aclassify is not Classifier.aclassify:
            return await self.classifier.aclassify(texts, policy)  # real async I/O: cancellable
        # The default aclassify waits for its thread even when cancelled; abandon it instead,
        # so a hung backend cannot hold the request past the deadline, and hand the thread
        # the deadline, so the model stops reading once nobody waits for its answer.
        left = anyio.current_effective_deadline() - anyio.current_time()
        return await anyio.to_thread.run_sync(
            partial(classify_within, left, self.classifier.classify, texts, policy),
            abandon_on_cancel=True)

    async def check(self, direction: Direction, texts: list[str], policy: Policy, *,
                    fail_open: bool, alone: Sequence[str] = ()) -> Check:
        """Classify ``texts`` (plus their join when there are several), and ``alone`` (texts
        read on their own, never in the join: the names of an answer's keys), and decide."""
        start = time.perf_counter()
        batch = [*texts, "\n".join(texts)] if len(texts) > 1 else list(texts)
        batch.extend(alone)
        verdicts = await self.classify(batch, policy)
        # A classifier outage may fail open where the route says so; text that cannot be read
        # at all (see unreadable_texts), or in a language the model does not read, never
        # does, or it would be a way around every check.
        fail_open = fail_open and not unreadable_texts(texts) and not unread_language(verdicts)
        check = Check(direction, policy, outcome_of(verdicts, fail_open=fail_open),
                      verdicts, (time.perf_counter() - start) * 1000)
        if check.outcome == "fail_open":
            logger.error("FAIL-OPEN: %s check with policy %r failed (%s) and the route lets "
                         "it through", direction, policy.id,
                         "; ".join(sorted({v.error or "" for v in verdicts if v.is_error})))
        return check


def unread_language(verdicts: Sequence[Verdict]) -> str | None:
    """Why the texts could not be checked when every failure is a text in a language the
    model does not read (its error verdicts say so and are marked for a deep tier); ``None``
    when there is no failure, or another one (an outage, a timeout)."""
    errors = [v for v in verdicts if v.is_error]
    if errors and all(v.meta.get("escalate") == "language" for v in errors):
        return errors[0].error
    return None


def header_value(checks: Sequence[Check], expected: Sequence[tuple[Direction, Policy]]) -> str:
    """The ``x-bastion-checks`` header: every expected check, ``skipped`` where none ran."""
    ran = {(c.direction, c.policy.id): c for c in checks}
    labels = []
    for direction, policy in expected:
        check = ran.get((direction, policy.id))
        labels.append(check.label if check else f"{direction}/{policy.id}=skipped")
    return ", ".join(labels)
