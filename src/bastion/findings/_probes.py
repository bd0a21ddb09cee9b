"""Findings as red-team probes: export, verify and regression runs.

An accepted finding becomes a :class:`~bastion.redteam.Case` with id ``findings/<id>``, read
back by the red-team probe ``findings``. A campaign import keeps the case it came from; a
hand-written finding replays its user turns (one turn: ``single`` strategy; several:
``crescendo`` with the turns as its steps) after any system turns, and is scored by the
refusal scorer (the attack worked when the target did not refuse).

``verify`` sends the case through the gateway or the finding's target (any
OpenAI-compatible endpoint) and moves the finding: still refused -> ``verified``; the attack
works again -> ``regressed`` (reopened). A target error changes nothing and is raised.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import anyio

from bastion.errors import InputError, RuntimeFailure
from bastion.findings._lifecycle import REGRESSION_STATES
from bastion.findings._model import Finding
from bastion.findings._query import Filters
from bastion.findings._store import FindingStore
from bastion.redteam import Campaign, Case, Message, Planned, make_config

EXPORTABLE = ("accepted", "fixing", "fixed", "verified", "closed", "regressed")


def to_case(item: Finding) -> Case:
    """The regression case of a finding (its linked probe when it has one)."""
    if item.probe:  # an imported campaign case, renamed so the findings probe owns it
        return replace(Case.from_dict(item.probe), id=f"findings/{item.id}", probe="findings")
    setup = []
    for turn in item.transcript:
        if turn["role"] == "user":
            break
        if turn["role"] == "system":
            setup.append(Message("system", turn["content"]))
    attacks = tuple(t["content"] for t in item.transcript if t["role"] == "user")
    return Case(id=f"findings/{item.id}", probe="findings", prompt=attacks[0],
                category=item.policy_category or "finding",
                owasp=(item.owasp,) if item.owasp else (),
                atlas=(item.atlas,) if item.atlas else (), goal=attacks[0],
                technique="reported", setup=tuple(setup),
                steps=attacks if len(attacks) > 1 else (), scorers=("refusal",),
                severity=item.severity)  # type: ignore[arg-type]


def strategy_of(case: Case) -> str:
    """``crescendo`` for a multi-turn case (its steps), else ``single``."""
    return "crescendo" if case.steps else "single"


def export_probes(store: FindingStore, path: Path, *, ids: Sequence[int] = ()) -> int:
    """Write accepted findings' cases as JSON Lines (the ``findings`` probe reads them).

    Raises:
        InputError: a finding named in ``ids`` has not been accepted.
    """
    chosen = [store.get(i) for i in ids] if ids else _all(store, EXPORTABLE)
    for item in chosen:
        if item.state not in EXPORTABLE:
            raise InputError(f"finding {item.id} is {item.state!r}; only accepted findings "
                             "become regression probes (accept it first)")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for item in chosen:
            out.write(json.dumps(to_case(item).to_dict(), ensure_ascii=True) + "\n")
    return len(chosen)


def _all(store: FindingStore, states: Sequence[str]) -> list[Finding]:
    found, after = [], None
    while True:
        page = store.listing(filters=Filters(states=tuple(states)), after=after, limit=500)
        found += [store.get(s.id) for s in page.items]
        if page.next is None:
            return found
        after = page.next


@dataclass(frozen=True)
class VerifyResult:
    """What a verification run found, and where it left the finding."""

    finding_id: int
    attack_succeeded: bool
    previous_state: str
    state: str
    reason: str


def _target_options(base_url: str, model: str, options: dict[str, Any]) -> dict[str, Any]:
    return {"base_url": base_url, "model": model, "plant_canary": False, **options}


async def _run(cases: list[tuple[Finding, Case]], base_url: str, model: str | None,
               target: str, options: dict[str, Any]) -> dict[int, Any]:
    groups: dict[str, list[tuple[Finding, Case]]] = defaultdict(list)
    for item, case in cases:
        groups[model or item.model or item.target].append((item, case))
    outcome: dict[int, Any] = {}
    for name, members in groups.items():
        config = make_config(target=target, target_options=_target_options(base_url, name,
                                                                             options),
                             probes=[], retries=1, concurrency=4)
        planned = [Planned(f"verify-{item.id}", case, strategy_of(case), (), item.id)
                   for item, case in members]
        attempts = await Campaign(config, planned=planned).run()
        outcome.update({int(a.id.removeprefix("verify-")): a for a in attempts})
    return outcome


def verify(store: FindingStore, ids: Sequence[int], *, base_url: str, actor: str,
           model: str | None = None, target: str = "openai",
           options: dict[str, Any] | None = None) -> list[VerifyResult]:
    """Re-run each finding's probe and move it to ``verified`` or ``regressed``.

    Args:
        ids: fixed, verified or closed findings.
        base_url: the gateway's or the target's ``/v1`` root.
        model: the model name to ask for (default: the finding's model, else its target).
        target: the red-team target plugin (``openai`` or ``gateway``).
        options: more target options (``api_key_env``, ``system_prompt``...).

    Raises:
        InputError: a finding is not in a state verification applies to.
        RuntimeFailure: the target failed; no finding was moved.
    """
    items = [store.get(i) for i in ids]
    for item in items:
        if item.state not in REGRESSION_STATES:
            raise InputError(f"finding {item.id} is {item.state!r}; verify runs on "
                             f"{', '.join(REGRESSION_STATES)} findings (mark it fixed first)")
    cases = [(item, to_case(item)) for item in items]
    attempts = anyio.run(_run, cases, base_url, model, target, dict(options or {}))
    failed = [a for a in attempts.values() if a.error]
    if failed:
        raise RuntimeFailure(f"the target failed while verifying ({failed[0].error}); no "
                             "finding was moved; check --base-url and try again")
    return [_settle(store, item, attempts[item.id], actor) for item in items]


def _settle(store: FindingStore, item: Finding, attempt: Any, actor: str) -> VerifyResult:
    if attempt.success:
        reason = f"regression probe succeeded again: {attempt.reason}"
        store.transition(item.id, "regressed", actor=actor, reason=reason)
        return VerifyResult(item.id, True, item.state, "regressed", reason)
    reason = f"regression probe refused: {attempt.reason}"
    if item.state == "fixed":
        store.transition(item.id, "verified", actor=actor, reason=reason)
        return VerifyResult(item.id, False, item.state, "verified", reason)
    return VerifyResult(item.id, False, item.state, item.state, reason)


def regress(store: FindingStore, *, base_url: str, actor: str, model: str | None = None,
            target: str = "openai", options: dict[str, Any] | None = None) -> list[VerifyResult]:
    """The scheduled regression run: verify every fixed, verified and closed finding."""
    ids = [f.id for f in _all(store, REGRESSION_STATES)]
    if not ids:
        return []
    return verify(store, ids, base_url=base_url, actor=actor, model=model, target=target,
                  options=options)
