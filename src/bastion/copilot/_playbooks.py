"""The built-in playbooks: suspend an account, rotate a key, add a policy example, open a
finding, start a regression campaign."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, ClassVar

from bastion.copilot._incident import SEVERITY_RANK, AlertLike, IncidentLike, worst
from bastion.copilot._playbook import ActionContext, Draft, Outcome, Playbook, register_playbook
from bastion.errors import ConfigError, InputError, PolicyError
from bastion.policy import load_policy
from bastion.store import utcnow

#: Detectors that describe the service, not an account's behaviour: never grounds to suspend.
SYSTEM_KINDS = frozenset({"fail_open", "error_spike", "latency_spike", "latency"})
#: Probes that re-test the weakness behind a policy category.
CATEGORY_PROBES: dict[str, tuple[str, ...]] = {
    "INJ": ("injection_direct", "injection_indirect", "jailbreak"),
    "PII": ("pii_leak", "system_prompt_extraction"),
    "PRV": ("pii_leak",),
}
DEFAULT_PROBES = ("harmful", "jailbreak")
MAX_EXAMPLE = 400
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")


def _by_account(incident: IncidentLike) -> dict[str, list[AlertLike]]:
    grouped: dict[str, list[AlertLike]] = {}
    for alert in incident.alerts:
        if alert.account_id and alert.kind not in SYSTEM_KINDS:
            grouped.setdefault(alert.account_id, []).append(alert)
    return grouped


def _categories(incident: IncidentLike) -> list[str]:
    return sorted({a.category for a in incident.alerts if a.category})


def _grave(alerts: list[AlertLike]) -> bool:
    return SEVERITY_RANK.get(worst(alerts), 0) >= SEVERITY_RANK["high"]


@register_playbook
class SuspendAccount(Playbook):
    """Suspend an account whose own alerts reach high severity."""

    name: ClassVar[str] = "suspend_account"
    description: ClassVar[str] = "Suspend an account: every key gets 403 with the reason."

    def propose(self, incident: IncidentLike) -> list[Draft]:
        """One draft per account with a high or critical alert of its own."""
        drafts = []
        for account, alerts in _by_account(incident).items():
            if not _grave(alerts):
                continue
            events = sum(a.count for a in alerts)
            kinds = ", ".join(sorted({a.kind for a in alerts}))
            drafts.append(Draft(self.name, {"account_id": account},
                                f"Suspend account {account}",
                                f"{len(alerts)} alert(s) ({kinds}), {events} event(s), worst "
                                f"severity {worst(alerts)}, all from this account.", rank=10))
        return drafts

    def execute(self, params: dict[str, Any], context: ActionContext, *, by: str,
                reason: str, proposal_id: str) -> Outcome:
        """Suspend through the account store (which audits ``account.suspended``)."""
        account = context.accounts.account(str(params["account_id"]))
        if account.in_engagement(utcnow()):
            raise InputError(f"account {account.id!r} is a red-teamer in an active engagement "
                             "and is exempt from suspension; end the engagement first")
        if account.suspended:
            return Outcome(f"account {account.id} was suspended already",
                           {"account_id": account.id, "changed": False})
        context.accounts.set_status(account.id, "suspended", reason, by=by,
                                    details={"proposal": proposal_id})
        return Outcome(f"suspended account {account.id}",
                       {"account_id": account.id, "changed": True})


@register_playbook
class RotateKey(Playbook):
    """Rotate an API key named by a high-severity alert."""

    name: ClassVar[str] = "rotate_key"
    description: ClassVar[str] = "Revoke a key and issue a new one with the same scopes."

    def propose(self, incident: IncidentLike) -> list[Draft]:
        """One draft per key that a high or critical alert names."""
        keys: dict[str, list[AlertLike]] = {}
        for alert in incident.alerts:
            if alert.key_id and alert.kind not in SYSTEM_KINDS:
                keys.setdefault(alert.key_id, []).append(alert)
        return [Draft(self.name, {"key_id": key}, f"Rotate key {key}",
                      f"{len(alerts)} alert(s) name this key, worst severity {worst(alerts)}; "
                      "a new key stops whoever holds the old one.", rank=20)
                for key, alerts in keys.items() if _grave(alerts)]

    def execute(self, params: dict[str, Any], context: ActionContext, *, by: str,
                reason: str, proposal_id: str) -> Outcome:
        """Revoke the key and issue a new one, shown once to the confirming person."""
        info, key = context.accounts.rotate_key(str(params["key_id"]), by=by)
        return Outcome(f"revoked key {params['key_id']}; new key {info.id} issued",
                       {"old_key_id": params["key_id"], "new_key_id": info.id,
                        "account_id": info.account_id}, secret=key)


@register_playbook
class AddPolicyExample(Playbook):
    """Add a blocked prompt from a new attack cluster to its policy's examples."""

    name: ClassVar[str] = "add_policy_example"
    description: ClassVar[str] = "Append a 'violates' example to the policy of a category."

    def propose(self, incident: IncidentLike) -> list[Draft]:
        """One draft per category of a ``cluster`` alert that carries evidence."""
        drafts, seen = [], set()
        for alert in incident.alerts:
            if alert.kind != "cluster" or not alert.category or not alert.evidence:
                continue
            if alert.category in seen:
                continue
            seen.add(alert.category)
            text = example_text(alert.evidence[0])
            drafts.append(Draft(self.name, {"category": alert.category, "text": text},
                                f"Add an example to category {alert.category}",
                                f"A new cluster of blocked prompts ({alert.count} event(s)); "
                                "teaching the policy one of them helps catch its variants.",
                                rank=50))
        return drafts

    def execute(self, params: dict[str, Any], context: ActionContext, *, by: str,
                reason: str, proposal_id: str) -> Outcome:
        """Append the example to the policy file defining the category; undo if it breaks."""
        if context.policy_dir is None:
            raise ConfigError("no policy folder is configured; pass --policy-dir (or set "
                              "policy_dir) to let the co-pilot edit policies")
        category, text = str(params["category"]), example_text(str(params["text"]))
        path, rule = _policy_with(context.policy_dir, category)
        before = path.read_text(encoding="utf-8")
        line = f'- violates {rule}: "{text}"'
        path.write_text(_append_example(before, line), encoding="utf-8")
        try:
            policy = load_policy(path)
        except PolicyError:
            path.write_text(before, encoding="utf-8")
            raise
        return Outcome(f"added an example to {policy.id} ({rule})",
                       {"policy": policy.id, "file": path.name, "rule": rule,
                        "policy_hash": policy.hash})


def example_text(text: str) -> str:
    """Hostile text made fit for one example line: one line, printable, bounded."""
    flat = " ".join(_UNPRINTABLE.sub(" ", text).split()).replace('"', "'")
    return flat[:MAX_EXAMPLE]


def _policy_with(folder: Path, category: str) -> tuple[Path, str]:
    for path in sorted(folder.glob("*.md")):
        try:
            policy = load_policy(path)
        except PolicyError:
            continue
        rules = policy.rules_for(category)
        if rules:
            return path, rules[0].id
    raise InputError(f"no policy in {str(folder)!r} defines category {category!r} with a "
                     "violating rule; add the category to a policy first")


def _append_example(text: str, line: str) -> str:
    lines = text.rstrip("\n").split("\n")
    starts = [i for i, ln in enumerate(lines) if ln.strip().lower() == "## examples"]
    if not starts:
        return "\n".join([*lines, "", "## Examples", line]) + "\n"
    end = next((i for i in range(starts[0] + 1, len(lines)) if lines[i].startswith("## ")),
               len(lines))
    while end > starts[0] + 1 and not lines[end - 1].strip():
        end -= 1
    return "\n".join([*lines[:end], line, *lines[end:]]) + "\n"


def _outbox(context: ActionContext, kind: str) -> Path:
    if context.outbox is None:
        raise ConfigError(f"no outbox folder is configured for {kind}; pass --outbox (or set "
                          "outbox) to let the co-pilot write them")
    folder = context.outbox / kind
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@register_playbook
class OpenFinding(Playbook):
    """Open a finding for an incident that shows a policy category being attacked."""

    name: ClassVar[str] = "open_finding"
    description: ClassVar[str] = "Write a finding for the findings queue."

    def propose(self, incident: IncidentLike) -> list[Draft]:
        """One draft per incident with categories and a high or critical alert."""
        categories = _categories(incident)
        if not categories or not _grave(list(incident.alerts)):
            return []
        return [Draft(self.name, {"incident_id": incident.id, "categories": categories,
                                  "severity": worst(list(incident.alerts))},
                      f"Open a finding for incident {incident.id}",
                      f"Attacks on {', '.join(categories)} reached the guardrails; a finding "
                      "tracks the weakness until it is fixed and re-tested.", rank=30)]

    def execute(self, params: dict[str, Any], context: ActionContext, *, by: str,
                reason: str, proposal_id: str) -> Outcome:
        """Write the finding as JSON to ``outbox/findings``."""
        path = _outbox(context, "findings") / f"{proposal_id}.json"
        finding = {"source": "copilot", "proposal": proposal_id, "opened_by": by,
                   "reason": reason, **params, "state": "new"}
        path.write_text(json.dumps(finding, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        return Outcome(f"opened finding {path.name}", {"file": path.name})


@register_playbook
class StartRegressionCampaign(Playbook):
    """Start a red-team campaign that re-tests the categories an incident attacked."""

    name: ClassVar[str] = "start_regression_campaign"
    description: ClassVar[str] = "Write a campaign config for 'bastion redteam run'."

    def propose(self, incident: IncidentLike) -> list[Draft]:
        """One draft per incident with categories."""
        categories = _categories(incident)
        if not categories:
            return []
        probes = sorted({p for c in categories for p in CATEGORY_PROBES.get(c, DEFAULT_PROBES)})
        return [Draft(self.name, {"probes": probes, "categories": categories},
                      f"Start a regression campaign ({', '.join(probes)})",
                      f"Re-test {', '.join(categories)} against the guardrails with the "
                      "matching probes.", rank=40)]

    def execute(self, params: dict[str, Any], context: ActionContext, *, by: str,
                reason: str, proposal_id: str) -> Outcome:
        """Validate the campaign config and write it to ``outbox/campaigns``."""
        from bastion.redteam import make_config  # noqa: PLC0415 - the red team loads lazily

        config = make_config(probes=[str(p) for p in params["probes"]])
        path = _outbox(context, "campaigns") / f"{proposal_id}.json"
        path.write_text(config.model_dump_json(indent=2) + "\n", encoding="utf-8")
        return Outcome(f"wrote campaign config {path.name}; run it with 'bastion redteam run "
                       f"--config {path}'", {"file": path.name, "probes": params["probes"]})
