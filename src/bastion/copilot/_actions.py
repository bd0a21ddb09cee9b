"""Proposed actions in the store, and their confirmation by a person.

A proposal is stored with an id when a person asks for the co-pilot's drafts to be proposed
(pages only show drafts: reading an incident writes nothing). It runs only when
:meth:`ActionDesk.confirm` is called with that id, the confirming user and a reason; the
confirmation, the outcome (or failure) and the rejection of a proposal are written to the
audit log, and the playbook's own change (a suspension, a key rotation) is audited by the
store that makes it. A proposal runs at most once: confirming moves it out of ``proposed``
with a compare-and-set, so two people confirming at once cannot run it twice.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from bastion.accounts._model import aware
from bastion.copilot._playbook import ActionContext, Draft, Outcome, playbook
from bastion.copilot._tables import ProposalRow
from bastion.errors import BastionError, InputError, NotFoundError
from bastion.monitor import AuditLog
from bastion.store import utcnow

MAX_REASON = 2_000


@dataclass(frozen=True)
class Proposal:
    """A stored proposal (a snapshot, not a live row)."""

    id: str
    incident_id: str
    playbook: str
    params: dict[str, Any]
    title: str
    rationale: str
    rank: int
    status: str
    created_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    reason: str | None = None
    result: dict[str, Any] | None = None

    @classmethod
    def of(cls, row: ProposalRow) -> Proposal:
        """A snapshot of a row."""
        return cls(row.id, row.incident_id, row.playbook, dict(row.params), row.title,
                   row.rationale, row.rank, row.status, aware(row.created_at),
                   row.decided_by, aware(row.decided_at), row.reason,
                   None if row.result is None else dict(row.result))

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return {"id": self.id, "incident_id": self.incident_id, "playbook": self.playbook,
                "params": self.params, "title": self.title, "rationale": self.rationale,
                "rank": self.rank, "status": self.status,
                "created_at": self.created_at.isoformat(), "decided_by": self.decided_by,
                "decided_at": self.decided_at.isoformat() if self.decided_at else None,
                "reason": self.reason, "result": self.result}


@dataclass(frozen=True)
class Confirmed:
    """What confirming did: the proposal as it ended, and the outcome's one-time secret."""

    proposal: Proposal
    secret: str | None = None


class ActionDesk:
    """Stores proposals and runs them when a person confirms.

    Lifetime: one per process, over the store's session factory. Thread-safe: each call opens
    its own sessions. Failure: a caller's mistake (unknown id, no reason, a proposal already
    decided) raises :class:`~bastion.errors.InputError`; a playbook that cannot apply, or whose
    target fails, marks the proposal ``failed`` (audited) and re-raises its error.

    Args:
        sessions: the store's session factory.
        context: what playbooks act through.
        audit: the audit log (default: the account store's).
    """

    def __init__(self, sessions: sessionmaker[Session], context: ActionContext, *,
                 audit: AuditLog | None = None) -> None:
        self.sessions = sessions
        self.context = context
        self.audit = audit or context.accounts.audit

    def store(self, incident_id: str, drafts: Sequence[Draft], *,
              by: str = "copilot") -> list[Proposal]:
        """Store drafts as proposals (audited, with who asked); one the incident already has
        is returned as it stands."""
        made: list[Proposal] = []
        with self.sessions.begin() as session:
            known = _known(session, incident_id)
            for draft in drafts:
                row = known.get((draft.playbook, _key(draft.params)))
                if row is None:
                    row = ProposalRow(id=f"prop_{secrets.token_hex(8)}", incident_id=incident_id,
                                      playbook=draft.playbook, params=draft.params,
                                      title=draft.title, rationale=draft.rationale,
                                      rank=draft.rank, status="proposed", created_at=utcnow())
                    session.add(row)
                    session.flush()
                    self.audit.append_in(session, [{
                        "type": "copilot.proposed", "proposal": row.id,
                        "incident": incident_id, "playbook": draft.playbook,
                        "params": draft.params, "by": by}])
                made.append(Proposal.of(row))
        return sorted(made, key=lambda p: (p.rank, p.title))

    def unstored(self, incident_id: str, drafts: Sequence[Draft]) -> list[Draft]:
        """The drafts :meth:`store` would add as new proposals (reads only: a page shows them
        without writing)."""
        with self.sessions() as session:
            known = _known(session, incident_id)
        fresh = [d for d in drafts if (d.playbook, _key(d.params)) not in known]
        return sorted(fresh, key=lambda d: (d.rank, d.title))

    def get(self, proposal_id: str) -> Proposal:
        """The proposal with this id.

        Raises:
            InputError: no such proposal.
        """
        with self.sessions() as session:
            row = session.get(ProposalRow, proposal_id)
            if row is None:
                raise NotFoundError(f"no proposal with id {proposal_id!r}; list an incident's "
                                 "proposals with 'bastion copilot triage'")
            return Proposal.of(row)

    def for_incident(self, incident_id: str) -> list[Proposal]:
        """Every proposal of an incident, most urgent first."""
        with self.sessions() as session:
            rows = session.execute(select(ProposalRow).where(
                ProposalRow.incident_id == incident_id)
                .order_by(ProposalRow.rank, ProposalRow.created_at)).scalars()
            return [Proposal.of(r) for r in rows]

    def confirm(self, proposal_id: str, *, by: str, reason: str) -> Confirmed:
        """Run a proposal because ``by`` confirmed it for ``reason`` (audited).

        Raises:
            InputError: unknown id, empty user or reason, or the proposal was decided already.
            UserError: the playbook cannot apply (the proposal is then ``failed``).
            RuntimeFailure: something it acts through failed, e.g. the regression target
                (the proposal is then ``failed`` too).
        """
        by, reason = _person(by, reason)
        proposal = self._claim(proposal_id, "running", by, reason, "copilot.confirmed")
        try:
            outcome = playbook(proposal.playbook).execute(
                dict(proposal.params), self.context, by=by, reason=reason,
                proposal_id=proposal.id)
        except BastionError as exc:  # a caller's mistake, or a target down: never left running
            self._finish(proposal.id, "failed", {"error": str(exc)}, "copilot.failed")
            raise
        ended = self._finish(proposal.id, "done", _public(outcome), "copilot.executed")
        return Confirmed(ended, outcome.secret)

    def reject(self, proposal_id: str, *, by: str, reason: str) -> Proposal:
        """Close a proposal without running it (audited)."""
        by, reason = _person(by, reason)
        return self._claim(proposal_id, "rejected", by, reason, "copilot.rejected")

    def _claim(self, proposal_id: str, status: str, by: str, reason: str,
               event: str) -> Proposal:
        with self.sessions.begin() as session:
            moved = session.execute(
                update(ProposalRow)
                .where(ProposalRow.id == proposal_id, ProposalRow.status == "proposed")
                .values(status=status, decided_by=by, decided_at=utcnow(), reason=reason))
            if moved.rowcount != 1:  # type: ignore[attr-defined]
                current = self.get(proposal_id)  # raises for an unknown id
                raise InputError(f"proposal {proposal_id!r} is {current.status} already "
                                 f"(by {current.decided_by!r}); it can be decided only once")
            row = session.get(ProposalRow, proposal_id)
            assert row is not None
            self.audit.append_in(session, [{
                "type": event, "proposal": row.id, "incident": row.incident_id,
                "playbook": row.playbook, "params": row.params, "by": by, "reason": reason}])
            return Proposal.of(row)

    def _finish(self, proposal_id: str, status: str, result: dict[str, Any],
                event: str) -> Proposal:
        with self.sessions.begin() as session:
            row = session.get(ProposalRow, proposal_id)
            assert row is not None
            row.status, row.result = status, result
            self.audit.append_in(session, [{
                "type": event, "proposal": row.id, "incident": row.incident_id,
                "playbook": row.playbook, "by": row.decided_by, "result": result}])
            return Proposal.of(row)


def _person(by: str, reason: str) -> tuple[str, str]:
    by, reason = by.strip(), reason.strip()
    if not by:
        raise InputError("a confirmation needs the confirming user; pass --by NAME")
    if not reason:
        raise InputError("a confirmation needs a reason; say why in --reason")
    if len(reason) > MAX_REASON:
        raise InputError(f"the reason is {len(reason)} characters long; keep it under "
                         f"{MAX_REASON}")
    return by, reason


def _known(session: Session, incident_id: str) -> dict[tuple[str, str], ProposalRow]:
    """The incident's proposals by (playbook, params). A draft already proposed, run or
    rejected is not proposed again; a failed one may be, once the cause is fixed."""
    rows = session.execute(select(ProposalRow).where(
        ProposalRow.incident_id == incident_id, ProposalRow.status != "failed")).scalars()
    return {(r.playbook, _key(r.params)): r for r in rows}


def _key(params: dict[str, Any]) -> str:
    return json.dumps(params, sort_keys=True, default=str)


def _public(outcome: Outcome) -> dict[str, Any]:
    return {"summary": outcome.summary, **outcome.details}
