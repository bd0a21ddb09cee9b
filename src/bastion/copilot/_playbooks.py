"""The built-in playbooks that act on accounts and policies: suspend an account, rotate a key,
add a policy example (the findings playbooks are in :mod:`bastion.copilot._finding_playbooks`)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, ClassVar

from bastion.copilot._incident import SEVERITY_RANK, AlertLike, IncidentLike, worst
from bastion.copilot._playbook import ActionContext, Draft, Outcome, Playbook, register_playbook
from bastion.errors import ConfigError, InputError, PolicyError
from bastion.policy import builtin_path, builtin_policies, parse_policy
from bastion.store import utcnow

if TYPE_CHECKING:
    from bastion.policy.store import PolicyStore

#: Detectors that describe the service, not an account's behaviour: never grounds to suspend.
SYSTEM_KINDS = frozenset({"fail_open", "error_spike", "latency_spike", "latency"})
MAX_EXAMPLE = 400
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")


def _by_account(incident: IncidentLike) -> dict[str, list[AlertLike]]:
    grouped: dict[str, list[AlertLike]] = {}
    for alert in incident.alerts:
        if alert.account_id and alert.kind not in SYSTEM_KINDS:
            grouped.setdefault(alert.account_id, []).append(alert)
    return grouped


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
        """Save the policy defining the category, with the example added, as a new draft
        version in the policy store (linted; audited as ``policy.saved``). Nothing goes live:
        the draft is reviewed, tested and published like any other edit."""
        if context.policies is None:
            raise ConfigError("add_policy_example saves a draft in the policy store; build the "
                              "ActionContext with policies=PolicyStore(sessions) (the web app "
                              "and 'bastion copilot confirm' do)")
        category, text = str(params["category"]), example_text(str(params["text"]))
        policy_id, working, rule = _policy_with(context.policies, category)
        content = _append_example(working, f'- violates {rule}: "{text}"')
        version, _ = context.policies.save(
            content, author=by, policy_id=policy_id,
            message=f"co-pilot proposal {proposal_id}: example for {rule}; {reason}"[:2000])
        return Outcome(f"saved draft {policy_id} v{version.number} with an example for {rule}; "
                       f"review, test and publish it at /policies/{policy_id}/versions/"
                       f"{version.number}",
                       {"policy": policy_id, "version": version.number, "rule": rule,
                        "state": version.state, "content_hash": version.content_hash})


def example_text(text: str) -> str:
    """Hostile text made fit for one example line: one line, printable, bounded."""
    flat = " ".join(_UNPRINTABLE.sub(" ", text).split()).replace('"', "'")
    return flat[:MAX_EXAMPLE]


def _policy_with(store: PolicyStore, category: str) -> tuple[str, str, str]:
    """(policy id, the text an edit starts from, rule id) of the first policy, by id, whose
    own text defines a violating rule of ``category`` (not one that only includes it).

    An edit starts where the policy editor does: the newest saved version, else the
    shipped text of a built-in policy.
    """
    for policy_id in sorted(set(builtin_policies()) | {s.policy_id for s in store.policies()}):
        latest = store.latest(policy_id)
        text = latest.content if latest is not None else builtin_path(policy_id).read_text(
            "utf-8")
        try:
            rules = parse_policy(text, source=policy_id).rules_for(category)
        except PolicyError:
            continue
        own = [r for r in rules if f"**{r.id}**" in text]
        if own:
            return policy_id, text, own[0].id
    raise InputError(f"no policy defines category {category!r} with a violating rule; add "
                     "the category to a policy first (/policies)")


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
