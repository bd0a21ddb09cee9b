"""Incident triage: group related alerts, rank them, explain, and propose playbook actions."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from bastion.copilot._backend import TemplateWriter, Writer, Written
from bastion.copilot._incident import AlertLike, IncidentLike, accounts_of, worst
from bastion.copilot._playbook import Draft, playbooks
from bastion.copilot._text import clusters, keywords

#: Alerts without a shared account or key join one group when their text is this similar.
SIMILAR = 0.8
SEVERITY_WEIGHT = {"low": 1.0, "medium": 2.0, "high": 4.0, "critical": 8.0}

WHY: dict[str, str] = {
    "block_rate": "a sudden rise in blocked requests means someone is actively trying to get "
                  "past the guardrails",
    "cluster": "the same blocked attack is spreading across accounts, so it is being shared "
               "or automated",
    "probing": "trying many policy categories is reconnaissance: the account is mapping what "
               "the guardrails let through",
    "slow_attacker": "a slow, persistent attacker stays under rate thresholds and keeps "
                     "trying until something gets through",
    "fail_open": "requests passed without a guardrail check while the classifier failed, so "
                 "harmful content may have reached the model or the user",
    "error_spike": "classifier errors leave requests unchecked or refused; the service is "
                   "degraded",
    "latency_spike": "slow checks delay every user and can push the gateway into fail-open",
}
GENERIC_WHY = "repeated policy violations are a sign of deliberate misuse"

Embedder = Callable[[Sequence[str]], np.ndarray]


@dataclass(frozen=True)
class RankedAlert:
    """An alert with its urgency score and the group it belongs to."""

    alert: AlertLike
    score: float
    group: int


@dataclass(frozen=True)
class AlertGroup:
    """Related alerts: the same account or key, or the same attack text."""

    number: int
    label: str
    alerts: tuple[AlertLike, ...]
    score: float


@dataclass(frozen=True)
class Triage:
    """The co-pilot's reading of one incident.

    Attributes:
        summary: a few sentences on what happened and why it matters (and who wrote them).
        keywords: recurring words of the evidence (extractive, always computed).
        drafts: proposed actions from playbooks, most urgent first.
    """

    incident_id: str
    title: str
    groups: tuple[AlertGroup, ...]
    ranked: tuple[RankedAlert, ...]
    summary: Written
    keywords: tuple[str, ...]
    drafts: tuple[Draft, ...]

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dictionary (evidence left out; it stays in the monitor)."""
        return {"incident": self.incident_id, "title": self.title,
                "summary": self.summary.text, "mode": self.summary.mode,
                "note": self.summary.note, "keywords": list(self.keywords),
                "groups": [{"number": g.number, "label": g.label, "score": round(g.score, 3),
                            "alerts": [a.id for a in g.alerts]} for g in self.groups],
                "ranked": [{"alert": r.alert.id, "kind": r.alert.kind,
                            "severity": r.alert.severity, "account_id": r.alert.account_id,
                            "category": r.alert.category, "count": r.alert.count,
                            "score": round(r.score, 3), "group": r.group}
                           for r in self.ranked]}


def alert_score(alert: AlertLike, newest: datetime) -> float:
    """Urgency: severity weight x (1 + log2 events) x a one-day recency decay."""
    hours = max(0.0, (newest - alert.at).total_seconds() / 3600)
    return (SEVERITY_WEIGHT.get(alert.severity, 1.0) * (1 + math.log2(max(alert.count, 1)))
            / (1 + hours / 24))


def group_alerts(alerts: Sequence[AlertLike], embedder: Embedder | None) -> list[int]:
    """A group number per alert: shared account or key joins; otherwise similar text does."""
    parent = list(range(len(alerts)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def join(i: int, j: int) -> None:
        parent[find(i)] = find(j)

    owners: dict[str, int] = {}
    for i, alert in enumerate(alerts):
        for ref in (f"a:{alert.account_id}" if alert.account_id else None,
                    f"k:{alert.key_id}" if alert.key_id else None):
            if ref is not None:
                join(i, owners.setdefault(ref, i))
    loose = [i for i, a in enumerate(alerts) if not a.account_id and not a.key_id]
    if embedder is not None and len(loose) > 1:
        texts = [_text_of(alerts[i]) for i in loose]
        heads: dict[int, int] = {}
        for i, label in zip(loose, clusters(embedder(texts), SIMILAR), strict=True):
            join(i, heads.setdefault(label, i))
    roots = {find(i) for i in range(len(alerts))}
    numbering = {root: n for n, root in enumerate(sorted(roots), 1)}
    return [numbering[find(i)] for i in range(len(alerts))]


def _text_of(alert: AlertLike) -> str:
    return " ".join([alert.summary, *alert.evidence[:3]])


def _label(alerts: Sequence[AlertLike]) -> str:
    accounts = sorted({a.account_id for a in alerts if a.account_id})
    if accounts:
        return "account " + ", ".join(accounts[:3]) + (" ..." if len(accounts) > 3 else "")
    keys = sorted({a.key_id for a in alerts if a.key_id})
    if keys:
        return "key " + ", ".join(keys[:3])
    kinds = sorted({a.kind for a in alerts})
    return "similar alerts (" + ", ".join(kinds) + ")"


class Triager:
    """Reads incidents: groups, ranks, explains and proposes.

    Lifetime: one per process. Concurrency: thread-safe when its writer and embedder are.
    Failure: never raises for hostile content; a failing LLM falls back to the template.

    Args:
        writer: writes the explanation (default: templates).
        embedder: sentence embeddings for grouping loose alerts (default:
            :func:`bastion.classify.embed`; ``None`` groups by account and key only).
    """

    def __init__(self, writer: Writer | None = None, *,
                 embedder: Embedder | str | None = "default") -> None:
        self.writer = writer or TemplateWriter()
        if embedder == "default":
            from bastion.classify import embed  # noqa: PLC0415 - loads the model on first use

            embedder = embed
        self.embedder: Embedder | None = embedder if callable(embedder) else None

    def triage(self, incident: IncidentLike) -> Triage:
        """Group, rank, explain and propose for one incident."""
        alerts = list(incident.alerts)
        numbers = group_alerts(alerts, self.embedder)
        newest = max(a.at for a in alerts)
        ranked = sorted((RankedAlert(a, alert_score(a, newest), n)
                         for a, n in zip(alerts, numbers, strict=True)),
                        key=lambda r: (-r.score, r.alert.id))
        groups = []
        for n in sorted(set(numbers)):
            members = tuple(r.alert for r in ranked if r.group == n)
            groups.append(AlertGroup(n, _label(members), members,
                                     sum(r.score for r in ranked if r.group == n)))
        groups.sort(key=lambda g: -g.score)
        words = keywords([e for a in alerts for e in a.evidence])
        drafts = sorted((d for p in playbooks().values() for d in p.propose(incident)),
                        key=lambda d: (d.rank, d.title))
        summary = self._explain(incident, ranked, groups, words)
        return Triage(incident.id, incident.title, tuple(groups), tuple(ranked), summary,
                      tuple(words), tuple(drafts))

    def _explain(self, incident: IncidentLike, ranked: Sequence[RankedAlert],
                 groups: Sequence[AlertGroup], words: Sequence[str]) -> Written:
        facts = _facts(incident, ranked, groups)
        data = [_text_of(r.alert) for r in ranked[:8]]
        return self.writer.write(
            "Explain in at most four sentences what happened in this incident and why it "
            "matters to the defender. Do not recommend actions.", facts, data,
            fallback=template_summary(facts, words))


def _facts(incident: IncidentLike, ranked: Sequence[RankedAlert],
           groups: Sequence[AlertGroup]) -> dict[str, Any]:
    top = ranked[0].alert
    return {"incident": incident.id, "alerts": len(ranked), "groups": len(groups),
            "events": sum(r.alert.count for r in ranked),
            "detectors": sorted({r.alert.kind for r in ranked}),
            "accounts": accounts_of(incident)[:5],
            "categories": sorted({r.alert.category for r in ranked if r.alert.category}),
            "worst": worst([r.alert for r in ranked]),
            "top": {"kind": top.kind, "severity": top.severity, "account_id": top.account_id,
                    "category": top.category, "count": top.count}}


def template_summary(facts: dict[str, Any], words: Sequence[str]) -> str:
    """The extractive explanation: structured facts in fixed sentences (no free text)."""
    top = facts["top"]
    who = f" from account {top['account_id']}" if top["account_id"] else ""
    about = f" in category {top['category']}" if top["category"] else ""
    parts = [f"{facts['alerts']} alert(s) covering {facts['events']} event(s) from "
             f"{', '.join(facts['detectors'])}, in {facts['groups']} group(s); worst severity "
             f"{facts['worst']}.",
             f"Most urgent: a {top['severity']} {top['kind']} alert{who}{about} "
             f"({top['count']} event(s))."]
    if len(facts["accounts"]) > 1:
        parts.append(f"{len(facts['accounts'])} accounts are involved: "
                     f"{', '.join(facts['accounts'])}.")
    parts.append(f"Why it matters: {WHY.get(top['kind'], GENERIC_WHY)}.")
    if words:
        parts.append(f"Recurring words in the evidence: {', '.join(words[:6])}.")
    return " ".join(parts)

