"""The findings store: submit, read, move through the lifecycle, comment, attach, dedupe.

Every change of state is written in the same transaction as an event of the hash-chained
audit log (:class:`bastion.monitor.AuditLog`): who, from which state to which, and why. A
transition that is not in the lifecycle table is refused before anything is written.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bastion.classify import embedder_id
from bastion.errors import InputError, NotFoundError
from bastion.findings._convert import (
    attachment,
    check_attachment,
    comment,
    finding,
    transition,
)
from bastion.findings._dedupe import Candidate, DedupeSettings, fingerprints
from bastion.findings._index import Ranked, VectorIndex
from bastion.findings._lifecycle import OPEN_STATES, check_transition
from bastion.findings._metrics import Metrics, metrics
from bastion.findings._model import Attachment, Comment, Finding, Submission, Transition
from bastion.findings._notify import Notifier
from bastion.findings._query import EVERYTHING, Filters, Page, Scope, list_findings, queue
from bastion.findings._revector import (
    BATCH,
    count_to_refresh,
    refresh_vectors,
    store_fingerprint,
)
from bastion.findings._severity import RANK, due, rate
from bastion.findings._tables import (
    AttachmentRow,
    CommentRow,
    FindingRow,
    OwnerRow,
    TransitionRow,
)
from bastion.monitor import AuditLog
from bastion.taxonomy import AtlasTable, load_atlas, owasp_id

logger = logging.getLogger("bastion.findings")
MENTION = re.compile(r"(?<![\w@])@([A-Za-z0-9][A-Za-z0-9_.-]{0,63})")
Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


def _limit(limit: int) -> int:
    if not 1 <= limit <= 500:
        raise InputError(f"page size {limit} is out of range; use 1 to 500")
    return limit


class FindingStore:
    """Findings in the database, with their audit trail and notifications.

    Lifetime: one per process, sharing the store's session factory. Thread-safe: each call
    opens its own session. Failure: bad input raises :class:`~bastion.errors.InputError`
    before anything is written; database errors propagate.

    Args:
        sessions: the store's session factory (schema at ``0010_findings`` or later).
        audit: the audit log transitions are recorded in (a plain one on ``sessions`` when
            not given).
        atlas: the ATLAS table submitted ids are checked against (the shipped one by default).
        notifier: where events go (none by default).
        dedupe: when two findings count as the same vulnerability.
        clock: the current time (tests move it to check SLAs).
    """

    def __init__(self, sessions: sessionmaker[Session], *, audit: AuditLog | None = None,
                 atlas: AtlasTable | None = None, notifier: Notifier | None = None,
                 dedupe: DedupeSettings | None = None, clock: Clock = _now) -> None:
        self.sessions = sessions
        self.audit = audit or AuditLog(sessions)
        self.atlas = atlas or load_atlas()
        self.notifier = notifier
        self.dedupe = dedupe or DedupeSettings()
        self.clock = clock
        self._index = VectorIndex()

    # -- submit and read ------------------------------------------------------------------

    def submit(self, submission: Submission, reporter: str) -> Finding:
        """Store a new finding (state ``new``) and return it.

        Raises:
            InputError: an unknown OWASP or ATLAS id, or bad severity inputs.
        """
        return self.submit_many([submission], reporter)[0]

    def submit_many(self, submissions: Sequence[Submission], reporter: str) -> list[Finding]:
        """Store several findings in one transaction (imports), embedding them in one batch."""
        rows = [self._row(s, reporter) for s in submissions]
        prints = fingerprints([[t.model_dump() for t in s.transcript] for s in submissions])
        with self.sessions.begin() as session:
            for row, mark in zip(rows, prints, strict=True):
                store_fingerprint(row, mark)
                session.add(row)
            session.flush()
            self.audit.append_in(session, [
                {"type": "finding.submitted", "finding": row.id, "actor": reporter,
                 "severity": row.severity, "source": row.source} for row in rows])
            found = [finding(row) for row in rows]
        for item in found:
            self._notify("finding.submitted", item, actor=reporter)
        return found

    def _row(self, sub: Submission, reporter: str) -> FindingRow:
        if not reporter.strip():
            raise InputError("a finding needs a reporter (the member submitting it)")
        inputs = sub.severity_inputs()
        level = rate(inputs)
        technique = self.atlas.technique(sub.atlas) if sub.atlas else None
        now = self.clock()
        return FindingRow(
            title=sub.title, target=sub.target, model=sub.model, engagement=sub.engagement,
            owasp=owasp_id(sub.owasp) if sub.owasp else None,
            atlas=technique.id if technique else None,
            atlas_name=technique.name if technique else None,
            policy_category=sub.policy_category,
            transcript=[t.model_dump() for t in sub.transcript], steps=sub.steps,
            repro_rate=sub.repro_rate, impact=sub.impact, sev_impact=inputs.impact,
            sev_repro=inputs.reproducibility, sev_breadth=inputs.breadth,
            sev_effort=inputs.effort, severity=level, severity_rank=RANK[level], state="new",
            is_open=True, reporter=reporter, probe=sub.probe, source=sub.source,
            source_ref=sub.source_ref, created_at=now, updated_at=now,
            due_at=due(level, now, "new"), reopened=0, transcript_hash="")

    def get(self, finding_id: int) -> Finding:
        """The finding ``finding_id``.

        Raises:
            InputError: there is no such finding.
        """
        with self.sessions() as session:
            return finding(self._load(session, finding_id))

    @staticmethod
    def _load(session: Session, finding_id: int) -> FindingRow:
        row = session.get(FindingRow, finding_id)
        if row is None:
            raise NotFoundError(f"there is no finding {finding_id}; list them with "
                             "'bastion findings list'")
        return row

    # -- lifecycle ------------------------------------------------------------------------

    def transition(self, finding_id: int, to: str, *, actor: str, reason: str,
                   duplicate_of: int | None = None) -> Finding:
        """Move a finding to state ``to``, recording who and why (audited).

        Raises:
            InputError: a move the lifecycle does not allow, no reason, or a bad
                ``duplicate_of`` (missing, the finding itself, or reported later: the first
                reporter keeps the credit).
        """
        if not reason.strip():
            raise InputError("a transition needs a reason (what was decided and why)")
        if not actor.strip():
            raise InputError("a transition needs an actor (who decided)")
        with self.sessions.begin() as session:
            row = self._load(session, finding_id)
            source = row.state
            target = check_transition(source, to)
            if target == "duplicate":
                row.duplicate_of = self._original(session, row, duplicate_of)
            elif source == "duplicate":
                row.duplicate_of = None
            self._apply(row, target)
            session.add(TransitionRow(finding_id=row.id, from_state=source, to_state=target,
                                      actor=actor, reason=reason, at=row.updated_at))
            self.audit.append_in(session, [{
                "type": "finding.transition", "finding": row.id, "from": source,
                "to": target, "actor": actor, "reason": reason,
                **({"duplicate_of": row.duplicate_of} if target == "duplicate" else {})}])
            result = finding(row)
        self._notify("finding.transition", result, actor=actor, previous=source, reason=reason)
        return result

    def _original(self, session: Session, row: FindingRow, of: int | None) -> int:
        if of is None:
            raise InputError(f"marking finding {row.id} a duplicate needs the finding it "
                             "duplicates (duplicate_of)")
        if of == row.id:
            raise InputError(f"finding {row.id} cannot duplicate itself")
        original = self._load(session, of)
        while original.duplicate_of is not None:  # credit goes to the root of the chain
            original = self._load(session, original.duplicate_of)
        if original.id == row.id:
            raise InputError(f"finding {of} is already a duplicate of {row.id}")
        if (original.created_at, original.id) > (row.created_at, row.id):
            raise InputError(f"finding {original.id} was reported after {row.id}: the first "
                             f"reporter keeps the credit, so mark {original.id} a duplicate "
                             f"of {row.id} instead")
        return original.id

    def _apply(self, row: FindingRow, target: str) -> None:
        now = self.clock()
        if row.state == "triaging" and row.triaged_at is None:
            row.triaged_at = now
        if target == "fixed":
            row.fixed_at = now
        if target == "regressed":
            row.reopened += 1
        row.state = target
        row.is_open = target in OPEN_STATES
        created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=UTC)
        row.due_at = due(row.severity, created, target)  # type: ignore[arg-type]
        row.updated_at = now

    def history(self, finding_id: int) -> list[Transition]:
        """Every transition of a finding, oldest first."""
        with self.sessions() as session:
            self._load(session, finding_id)
            rows = session.execute(select(TransitionRow)
                                   .where(TransitionRow.finding_id == finding_id)
                                   .order_by(TransitionRow.id)).scalars()
            return [transition(r) for r in rows]

    def set_probe(self, finding_id: int, probe: dict[str, Any], *, actor: str) -> Finding:
        """Link a regression probe (a red-team case) to a finding."""
        with self.sessions.begin() as session:
            row = self._load(session, finding_id)
            row.probe = probe
            row.updated_at = self.clock()
            self.audit.append_in(session, [{"type": "finding.probe", "finding": row.id,
                                            "actor": actor, "probe": probe.get("id")}])
            return finding(row)

    # -- comments and attachments ---------------------------------------------------------

    def comment(self, finding_id: int, author: str, body: str) -> Comment:
        """Add a comment; ``@name`` mentions are notified.

        Raises:
            InputError: an empty or over-long comment.
        """
        if not body.strip() or len(body) > 100_000:
            raise InputError("a comment must hold 1 to 100,000 characters")
        mentions = sorted(set(MENTION.findall(body)))
        with self.sessions.begin() as session:
            row = self._load(session, finding_id)
            note = CommentRow(finding_id=row.id, author=author, body=body, mentions=mentions,
                              at=self.clock())
            session.add(note)
            session.flush()
            self.audit.append_in(session, [{"type": "finding.comment", "finding": row.id,
                                            "actor": author, "comment": note.id,
                                            "mentions": mentions}])
            result, record = comment(note), finding(row)
        self._notify("finding.comment", record, actor=author, comment=result.id)
        for name in mentions:
            self._notify("finding.mention", record, actor=author, member=name,
                         comment=result.id)
        return result

    def comments(self, finding_id: int) -> list[Comment]:
        """A finding's comments, oldest first."""
        with self.sessions() as session:
            rows = session.execute(select(CommentRow).where(CommentRow.finding_id == finding_id)
                                   .order_by(CommentRow.id)).scalars()
            return [comment(r) for r in rows]

    def attach(self, finding_id: int, name: str, media_type: str, data: bytes, *,
               actor: str) -> Attachment:
        """Attach a file, stored byte for byte (see :data:`ATTACHMENT_TYPES` for the limits)."""
        digest = check_attachment(name, media_type, data)
        with self.sessions.begin() as session:
            self._load(session, finding_id)
            row = AttachmentRow(finding_id=finding_id, name=name, media_type=media_type,
                                size=len(data), sha256=digest, data=data, at=self.clock())
            session.add(row)
            session.flush()
            self.audit.append_in(session, [{"type": "finding.attachment",
                                            "finding": finding_id, "actor": actor,
                                            "sha256": digest, "size": len(data)}])
            return attachment(row)

    def attachments(self, finding_id: int) -> list[Attachment]:
        """A finding's attachments (descriptions only)."""
        with self.sessions() as session:
            rows = session.execute(select(AttachmentRow)
                                   .where(AttachmentRow.finding_id == finding_id)
                                   .order_by(AttachmentRow.id)).scalars()
            return [attachment(r) for r in rows]

    def attachment_data(self, attachment_id: int) -> tuple[Attachment, bytes]:
        """An attachment and its bytes, exactly as uploaded."""
        with self.sessions() as session:
            row = session.get(AttachmentRow, attachment_id)
            if row is None:
                raise NotFoundError(f"there is no attachment {attachment_id}")
            return attachment(row), bytes(row.data)

    # -- dedupe ---------------------------------------------------------------------------

    def candidates(self, finding_id: int, *, limit: int = 10) -> list[Candidate]:
        """Earlier findings that may be the same vulnerability, best first (exact first).

        Only findings that are not themselves duplicates are offered, so the credit goes to
        the first reporter. See :meth:`ranked` for the findings left out.
        """
        return self.ranked(finding_id, limit=limit).candidates

    def ranked(self, finding_id: int, *, limit: int = 10) -> Ranked:
        """:meth:`candidates`, and how many earlier findings were not compared because
        another embedder made their vectors (:meth:`refresh_vectors` makes them again).

        The finding's own vectors are made again first when another embedder made them.
        """
        model = embedder_id()
        with self.sessions.begin() as session:
            row = self._load(session, finding_id)
            if row.vec_model != model:
                store_fingerprint(row, fingerprints([row.transcript])[0])
                session.flush()
            found = self._index.candidates(session, row, self.dedupe, limit, model)
        if found.other_model:
            logger.warning("dedupe of finding %d left out %d finding(s) whose vectors another "
                        "model made; run 'bastion findings refresh-vectors'", finding_id,
                        found.other_model)
        return found

    def vectors_to_refresh(self, *, everything: bool = False) -> int:
        """How many findings :meth:`refresh_vectors` would remake: those whose vectors the
        shipped embedder did not make (every finding, with ``everything``)."""
        with self.sessions() as session:
            return count_to_refresh(session, embedder_id(), everything=everything)

    def refresh_vectors(self, *, batch: int = BATCH, everything: bool = False,
                        progress: Callable[[int], None] | None = None) -> int:
        """Make again, in batches, the vectors another embedder made (every finding's with
        ``everything``); how many were made.

        Raises:
            InputError: ``batch`` is not 1 to 10,000.
        """
        if not 1 <= batch <= 10_000:
            raise InputError(f"batch size {batch} is out of range; use 1 to 10,000")
        return refresh_vectors(self.sessions, batch=batch, everything=everything,
                               progress=progress)

    # -- list, queue, metrics ---------------------------------------------------------------

    def listing(self, *, scope: Scope = EVERYTHING, filters: Filters | None = None,
             after: str | None = None, limit: int = 50) -> Page:
        """Newest first, one keyset page (``after`` is the previous page's ``next``)."""
        return list_findings(self.sessions, self.clock(), scope=scope, filters=filters,
                             after=after, limit=_limit(limit))

    def queue(self, *, scope: Scope = EVERYTHING, filters: Filters | None = None,
              after: str | None = None, limit: int = 50) -> Page:
        """The priority queue: open findings by severity, SLA deadline and age."""
        return queue(self.sessions, self.clock(), scope=scope, filters=filters, after=after,
                     limit=_limit(limit))

    def metrics(self, *, scope: Scope = EVERYTHING) -> Metrics:
        """Programme metrics over the findings ``scope`` can see."""
        return metrics(self.sessions, scope=scope)

    # -- system owners ------------------------------------------------------------------------

    def assign_owner(self, user_id: str, target: str, *, actor: str) -> None:
        """Make ``user_id`` (a developer) an owner of the system ``target`` (idempotent)."""
        if not target.strip() or len(target) > 200:
            raise InputError("a system name must hold 1 to 200 characters")
        with self.sessions.begin() as session:
            exists = session.execute(select(OwnerRow.id).where(
                OwnerRow.user_id == user_id, OwnerRow.target == target)).first()
            if exists is None:
                session.add(OwnerRow(user_id=user_id, target=target, at=self.clock()))
                self.audit.append_in(session, [{"type": "finding.owner", "actor": actor,
                                                "user": user_id, "target": target}])

    def owned(self, user_id: str) -> tuple[str, ...]:
        """The systems ``user_id`` owns."""
        with self.sessions() as session:
            return tuple(sorted(session.execute(select(OwnerRow.target)
                                                .where(OwnerRow.user_id == user_id))
                                .scalars()))

    # -- notifications --------------------------------------------------------------------

    def _notify(self, event: str, item: Finding, **extra: Any) -> None:
        if self.notifier is None:
            return
        self.notifier.notify(event, {"finding": item.id, "title": item.title,
                                     "state": item.state, "severity": item.severity,
                                     "target": item.target, **extra})
