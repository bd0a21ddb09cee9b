"""The built-in playbooks that act through the findings store: open a finding for an
incident, and re-test the fixed findings of the categories it attacked.

Both need :attr:`ActionContext.findings`; the findings package (and the red team behind its
regression probes) is imported only when one of them runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from bastion.copilot._incident import SEVERITY_RANK, AlertLike, IncidentLike, worst
from bastion.copilot._playbook import ActionContext, Draft, Outcome, Playbook, register_playbook
from bastion.errors import ConfigError, InputError

if TYPE_CHECKING:
    from bastion.findings import FindingStore, Submission

#: Evidence samples a finding carries: the first is the attack turn, the rest go in its steps.
MAX_SAMPLES = 6
#: The rubric's impact input (1-4) for the incident's worst alert; a triager re-rates it.
IMPACT = {"low": 1, "medium": 2, "high": 3, "critical": 4}


def _categories(incident: IncidentLike) -> list[str]:
    return sorted({a.category for a in incident.alerts if a.category})


def _grave(alerts: list[AlertLike]) -> bool:
    return SEVERITY_RANK.get(worst(alerts), 0) >= SEVERITY_RANK["high"]


def _store(context: ActionContext, playbook: str) -> FindingStore:
    if context.findings is None:
        raise ConfigError(f"{playbook} needs the findings store; build the ActionContext "
                          "with findings=FindingStore(sessions) (the web app and "
                          "'bastion copilot confirm' do)")
    return context.findings


@register_playbook
class OpenFinding(Playbook):
    """Open a finding for an incident that shows a policy category being attacked."""

    name: ClassVar[str] = "open_finding"
    description: ClassVar[str] = "File a finding (state 'new') in the findings store."

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
        """Submit the finding, reported by the confirming person (audited by the store as
        ``finding.submitted``), with the incident's evidence as its transcript."""
        store = _store(context, self.name)
        if context.incident is None:
            raise ConfigError("open_finding reads the incident's evidence; build the "
                              "ActionContext with incident=<lookup by id>")
        incident = context.incident(str(params["incident_id"]))
        submission = finding_of(incident, [str(c) for c in params["categories"]],
                                target=context.finding_target, by=by, reason=reason,
                                proposal_id=proposal_id)
        item = store.submit(submission, reporter=by)
        return Outcome(f"opened finding {item.id} ({item.severity}, state {item.state})",
                       {"finding": item.id, "incident": incident.id,
                        "policy_category": item.policy_category})


def finding_of(incident: IncidentLike, categories: list[str], *, target: str, by: str,
               reason: str, proposal_id: str) -> Submission:
    """The finding an incident becomes: its first blocked prompt as the attack, the others
    listed in the steps, rubric inputs from the worst alert (a triager re-rates them).

    Raises:
        InputError: the incident holds no evidence sample to make a transcript from.
    """
    from bastion.findings import parse_submission  # noqa: PLC0415 - findings load lazily

    alerts = [a for a in incident.alerts if a.category in categories] or list(incident.alerts)
    samples = list(dict.fromkeys(s for a in alerts for s in a.evidence if s.strip()))
    if not samples:
        raise InputError(f"incident {incident.id!r} holds no evidence sample (the monitor kept "
                         "none, or redacted them all), so there is no attack to file; submit "
                         "the finding by hand with 'bastion findings submit'")
    top = max(alerts, key=lambda a: (SEVERITY_RANK.get(a.severity, 0), a.count))
    others = "".join(f"\n- {s}" for s in samples[1:MAX_SAMPLES])
    steps = (f"Seen by the monitor in incident {incident.id} ({len(alerts)} alert(s), "
             f"{sum(a.count for a in alerts)} event(s)). Opened by the co-pilot (proposal "
             f"{proposal_id}), confirmed by {by}: {reason}"
             + (f"\nOther prompts of the incident:{others}" if others else ""))
    return parse_submission({
        "title": f"Guardrails attacked ({', '.join(categories)}): {incident.title}"[:300],
        "target": target, "policy_category": top.category,
        "transcript": [{"role": "user", "content": samples[0]}], "steps": steps,
        "impact": "\n".join(f"{a.kind} ({a.severity}): {a.summary}" for a in alerts),
        "severity": {"impact": IMPACT.get(worst(alerts), 2), "reproducibility": 2,
                     "breadth": 2, "effort": 3},
        "source": "copilot", "source_ref": f"incident:{incident.id} proposal:{proposal_id}"})


@register_playbook
class StartRegressionCampaign(Playbook):
    """Re-test the fixed findings of the categories an incident attacked."""

    name: ClassVar[str] = "start_regression_campaign"
    description: ClassVar[str] = ("Re-run the regression probes of the fixed findings in the "
                                  "attacked categories ('bastion findings verify').")

    def propose(self, incident: IncidentLike) -> list[Draft]:
        """One draft per incident with categories."""
        categories = _categories(incident)
        if not categories:
            return []
        return [Draft(self.name, {"categories": categories},
                      f"Re-test the fixed findings of {', '.join(categories)}",
                      f"Attacks on {', '.join(categories)} suggest an old weakness may be back; "
                      "re-running the regression probes of the fixed findings of these "
                      "categories reopens any that works again.", rank=40)]

    def execute(self, params: dict[str, Any], context: ActionContext, *, by: str,
                reason: str, proposal_id: str) -> Outcome:
        """Verify every fixed, verified or closed finding of the categories now, through the
        configured target: still refused -> ``verified``, works again -> ``regressed``
        (each move audited by the findings store as ``finding.transition``)."""
        from bastion.findings import REGRESSION_STATES, Filters, verify  # noqa: PLC0415

        store = _store(context, self.name)
        if context.regression is None:
            raise ConfigError("start_regression_campaign sends probes to a target; set "
                              "BASTION_FINDINGS_TARGET_URL (the web app) or pass --target-url "
                              "to 'bastion copilot confirm'")
        categories = tuple(str(c) for c in params["categories"])
        ids, after = [], None
        while True:  # every page: a regression run covers them all
            page = store.listing(filters=Filters(states=REGRESSION_STATES,
                                                 policy_categories=categories),
                                 after=after, limit=500)
            ids += [s.id for s in page.items]
            if page.next is None:
                break
            after = page.next
        if not ids:
            return Outcome(f"no fixed finding covers {', '.join(categories)}: nothing to "
                           "re-test", {"categories": list(categories), "findings": []})
        results = verify(store, sorted(ids), base_url=context.regression.base_url,
                         actor=by, target=context.regression.kind)
        back = [r.finding_id for r in results if r.attack_succeeded]
        return Outcome(f"re-tested {len(results)} finding(s) of {', '.join(categories)}: "
                       f"{len(back)} regressed (reopened), {len(results) - len(back)} still "
                       "refused", {"categories": list(categories),
                                   "findings": [r.finding_id for r in results],
                                   "regressed": back})
