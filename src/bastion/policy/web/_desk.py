"""What the policy pages and API share: the store, the live text of each policy, the tier.

A policy is known when it is built in or has versions in the store. Its *live* text is the
published version, else the built-in file (what the gateway uses); its *working* text, where
an edit starts, is the newest version, else the live text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from starlette.exceptions import HTTPException

from bastion.classify import Classifier, Verdict, get_classifier
from bastion.errors import InputError
from bastion.policy import Policy, builtin_path, builtin_policies, parse_policy
from bastion.policy.store import Comparison, PolicyStore, PolicyVersion, parse_version
from bastion.policy.web._highlight import Segment, segments
from bastion.web import WebContext

POLICY_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,119}$")
MAX_TRY_CHARS = 20_000


@dataclass(frozen=True)
class PolicyRow:
    """One line of the policy list."""

    policy_id: str
    title: str
    built_in: bool
    live: str
    versions: int
    latest: int | None


@dataclass(frozen=True)
class Trial:
    """A playground run: the verdict, and the text cut into plain and evidence segments."""

    policy: Policy
    label: str
    verdict: Verdict
    segments: list[Segment]

    def to_dict(self) -> dict[str, Any]:
        """The JSON the API answers with (the text itself is not echoed)."""
        v = self.verdict
        return {"policy": {"id": self.policy.id, "version": self.label,
                           "hash": self.policy.hash},
                "kind": v.kind, "action": v.action, "score": round(v.score, 4),
                "rule_ids": list(v.rule_ids), "rationale": v.rationale, "tier": v.tier,
                "categories": [{"code": c.code, "score": round(c.score, 4),
                                "threshold": c.threshold, "violated": c.violated,
                                "action": c.action} for c in v.categories],
                "evidence": [{"start": s.start, "end": s.end, "category": s.category,
                              "note": s.note} for s in v.evidence],
                "error": v.error}


class PolicyDesk:
    """The policy store as the web app uses it (one per app: ``ctx.service(PolicyDesk)``).

    Lifetime: one per app. Thread-safe: the store opens a session per call and the classifier
    is the shared instance of its tier. Failure: an unknown policy or version raises a 404
    ``HTTPException``; caller mistakes raise :class:`~bastion.errors.UserError`.
    """

    def __init__(self, ctx: WebContext) -> None:
        self.store = PolicyStore(ctx.sessions, audit=ctx.audit)
        self.tier = ctx.settings.policy_tier

    @property
    def classifier(self) -> Classifier:
        """The shared classifier of the configured tier (loaded on first use)."""
        return get_classifier(self.tier)

    def rows(self) -> list[PolicyRow]:
        """Every known policy: the built-ins and those saved in the store, by id."""
        summaries = {s.policy_id: s for s in self.store.policies()}
        out = []
        for pid in sorted(set(builtin_policies()) | set(summaries)):
            summary = summaries.get(pid)
            live = (f"v{summary.published}" if summary and summary.published else
                    "shipped" if pid in builtin_policies() else "not published")
            title = self.live(pid)[0].title
            out.append(PolicyRow(pid, title, pid in builtin_policies(), live,
                                 summary.versions if summary else 0,
                                 summary.latest if summary else None))
        return out

    def check(self, policy_id: str) -> str:
        """``policy_id`` if such a policy exists, else a 404."""
        if POLICY_ID.match(policy_id) and (policy_id in builtin_policies()
                                           or self.store.latest(policy_id) is not None):
            return policy_id
        raise HTTPException(404, f"there is no policy {policy_id!r}; the list at /policies "
                                 "shows every policy (built-in or saved)")

    def version(self, policy_id: str, number: int) -> PolicyVersion:
        """One saved version, or a 404."""
        for version in self.store.versions(self.check(policy_id)):
            if version.number == number:
                return version
        raise HTTPException(404, f"policy {policy_id!r} has no version {number}; its page "
                                 "lists the versions it has")

    def live(self, policy_id: str) -> tuple[Policy, str, str]:
        """The policy the gateway uses: (loaded policy, label, text)."""
        published = self.store.published(self.check(policy_id))
        if published is not None:
            return parse_version(published), f"v{published.number}", published.content
        if policy_id in builtin_policies():
            text = builtin_path(policy_id).read_text("utf-8")
            return parse_policy(text, source=policy_id), "shipped", text
        latest = self.store.latest(policy_id)
        assert latest is not None  # check() found one
        return parse_version(latest), f"v{latest.number} (draft)", latest.content

    def working_text(self, policy_id: str) -> str:
        """Where an edit starts: the newest version, else the live text."""
        latest = self.store.latest(self.check(policy_id))
        return latest.content if latest is not None else self.live(policy_id)[2]

    def policy(self, policy_id: str, number: int | None) -> tuple[Policy, str]:
        """A version (``None``: the live one) as a loaded policy, with its label."""
        if number is None:
            policy, label, _ = self.live(policy_id)
            return policy, label
        return parse_version(self.version(policy_id, number)), f"v{number}"

    def try_text(self, policy_id: str, number: int | None, text: str) -> Trial:
        """Classify ``text`` with one version of a policy (the playground)."""
        policy, label = self.policy(policy_id, number)
        [verdict] = self.classifier.classify([text], policy)
        return Trial(policy, label, verdict, segments(text, verdict.evidence))

    def attach_tests(self, policy_id: str, rows: str, *, by: str) -> int:
        """Replace the labelled rows (JSONL) attached to a policy; returns how many.

        Raises:
            InputError: a line that is not a labelled row, JSON nested past the parser's
                depth included (``json`` raises ``RecursionError`` there, which the store's
                parser does not catch, so the page answered 500).
        """
        try:
            return self.store.attach_tests(policy_id, rows, by=by)
        except RecursionError as exc:
            raise InputError("a test row is JSON nested too deeply to read; each line must "
                             'be a flat object such as {"text": "...", "label": 1, '
                             '"category": "VIO"}') from exc

    def compare(self, policy_id: str, number: int) -> Comparison:
        """Run the test set on a version and on the live one."""
        self.version(policy_id, number)
        return self.store.compare(policy_id, number, self.classifier, tier=self.tier)
