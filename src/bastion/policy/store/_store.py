"""Policy versions in the database: save (linted), history, diff, publish, roll back, test.

Every publish is written to the audit log in the same transaction as the head it moves, so a
published version without its audit event (who and why) cannot happen.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bastion.classify import Classifier
from bastion.errors import InputError, NotFoundError, PolicyLintError
from bastion.monitor import AuditLog
from bastion.policy import LintIssue, Policy, builtin_path, builtin_policies, lint_text
from bastion.policy import parse_policy as _parse
from bastion.policy.store._model import (
    PolicyHead,
    PolicySummary,
    PolicyVersion,
    unified_diff,
)
from bastion.policy.store._tables import PolicyHeadRow, PolicyTestsetRow, PolicyVersionRow
from bastion.policy.store._testset import (
    Comparison,
    LabelledRow,
    example_rows,
    parse_rows,
    run_testset,
    shipped_rows,
    unique,
)
from bastion.store import utcnow

SHIPPED_AUTHOR = "bastion"


def content_hash(content: str) -> str:
    """sha256 of a policy text's UTF-8 bytes."""
    return hashlib.sha256(content.encode("utf-8", "surrogatepass")).hexdigest()


def parse_version(version: PolicyVersion) -> Policy:
    """The loaded policy of a stored version (its includes: built-in policies only)."""
    return _parse(version.content, source=f"{version.policy_id} v{version.number}")


class PolicyStore:
    """Versions of policies over a session factory.

    Lifetime: one per process. Thread-safe: each call opens its own session. Failure: caller
    mistakes (a text with lint errors, an unknown version, a publish without a reason) raise
    :class:`~bastion.errors.UserError` subclasses; database failures propagate as SQLAlchemy
    errors.
    """

    def __init__(self, sessions: sessionmaker[Session], *, audit: AuditLog | None = None) -> None:
        self.sessions = sessions
        self.audit = audit or AuditLog.from_env(sessions)

    def save(self, content: str, *, author: str, message: str = "",
             policy_id: str | None = None) -> tuple[PolicyVersion, list[LintIssue]]:
        """Lint a text and save it as the policy's next draft version.

        The policy is the one the front matter's ``id`` names; with ``policy_id`` the text
        must name that one (an editor cannot move text to another policy by accident). A text
        identical to the newest version saves nothing and returns that version. The first
        save of a built-in policy records the shipped text as version 1 first, so history
        and rollback start from what the gateway used.

        Returns:
            The version and the linter's warnings.

        Raises:
            PolicyLintError: the text has lint errors (all issues attached; nothing saved).
            InputError: the text names another policy than ``policy_id``.
        """
        source = f"{policy_id or 'policy'} (draft)"
        issues = lint_text(content, source=source)
        if any(i.severity == "error" for i in issues):
            raise PolicyLintError(issues, source=source)
        policy = _parse(content, source=source)
        if policy_id is not None and policy.id != policy_id:
            raise InputError(f"the text's front matter says 'id: {policy.id}' but this is "
                             f"policy {policy_id!r}; keep 'id: {policy_id}' (a new id makes a "
                             "new policy: save it from the policy list)")
        warnings = [i for i in issues if i.severity == "warning"]
        for _ in range(3):  # two editors saving at once: the loser takes the next number
            try:
                return self._insert(policy.id, content, author, message), warnings
            except IntegrityError:
                continue
        raise InputError(f"policy {policy.id!r} is being saved by others right now; save again")

    def _insert(self, policy_id: str, content: str, author: str, message: str) -> PolicyVersion:
        digest = content_hash(content)
        with self.sessions.begin() as session:
            latest = self._latest(session, policy_id)
            if latest is not None and latest.content_hash == digest:
                return PolicyVersion.of(latest)
            number = latest.number if latest is not None else 0
            if latest is None and policy_id in builtin_policies():
                shipped = builtin_path(policy_id).read_text("utf-8")
                if content_hash(shipped) != digest:
                    number += 1
                    session.add(_row(policy_id, number, shipped, SHIPPED_AUTHOR,
                                     "the shipped built-in policy"))
            row = _row(policy_id, number + 1, content, author, message)
            session.add(row)
            session.flush()
            self.audit.append_in(session, [{"type": "policy.saved", "policy_id": policy_id,
                                            "version": row.number, "by": author,
                                            "content_hash": digest, "message": message}])
            return PolicyVersion.of(row)

    @staticmethod
    def _latest(session: Session, policy_id: str) -> PolicyVersionRow | None:
        return session.execute(
            select(PolicyVersionRow).where(PolicyVersionRow.policy_id == policy_id)
            .order_by(PolicyVersionRow.number.desc()).limit(1)).scalar_one_or_none()

    def policies(self) -> list[PolicySummary]:
        """Every policy with versions in the store, by id."""
        with self.sessions() as session:
            counts = session.execute(
                select(PolicyVersionRow.policy_id, func.count(), func.max(PolicyVersionRow.number),
                       func.max(PolicyVersionRow.created_at))
                .group_by(PolicyVersionRow.policy_id).order_by(PolicyVersionRow.policy_id)).all()
            heads = self._heads(session)
        return [PolicySummary(pid, n, latest, heads[pid].number if pid in heads else None, at)
                for pid, n, latest, at in counts]

    def versions(self, policy_id: str) -> list[PolicyVersion]:
        """Every version of a policy, newest first (empty for a policy never saved)."""
        with self.sessions() as session:
            rows = session.execute(
                select(PolicyVersionRow).where(PolicyVersionRow.policy_id == policy_id)
                .order_by(PolicyVersionRow.number.desc())).scalars()
            return [PolicyVersion.of(row) for row in rows]

    def version(self, policy_id: str, number: int) -> PolicyVersion:
        """One version of a policy.

        Raises:
            InputError: there is no such version.
        """
        with self.sessions() as session:
            return PolicyVersion.of(self._version(session, policy_id, number))

    def latest(self, policy_id: str) -> PolicyVersion | None:
        """The newest version of a policy, if it has any."""
        with self.sessions() as session:
            row = self._latest(session, policy_id)
            return None if row is None else PolicyVersion.of(row)

    def _version(self, session: Session, policy_id: str, number: int) -> PolicyVersionRow:
        row = session.execute(select(PolicyVersionRow).where(
            PolicyVersionRow.policy_id == policy_id,
            PolicyVersionRow.number == number)).scalar_one_or_none()
        if row is None:
            latest = self._latest(session, policy_id)
            known = (f"it has versions 1 to {latest.number}" if latest is not None else
                     "it has no saved versions")
            raise NotFoundError(f"policy {policy_id!r} has no version {number}; {known} (see "
                             f"'bastion policy versions {policy_id}')")
        return row

    def diff(self, policy_id: str, old: int, new: int) -> str:
        """The unified diff between two versions of a policy."""
        return unified_diff(self.version(policy_id, old), self.version(policy_id, new))

    def publish(self, policy_id: str, number: int, *, by: str, reason: str) -> PolicyHead:
        """Make a version the live one (publishing an older version is a rollback).

        The gateway picks it up without a restart. Audited as ``policy.published`` with who,
        why, and the version replaced.

        Raises:
            InputError: no such version, or an empty reason.
        """
        reason = reason.strip()
        if not reason:
            raise InputError("a publish needs a reason (it goes into the audit log); say why "
                             "this version should be live")
        with self.sessions.begin() as session:
            version = self._version(session, policy_id, number)
            head = session.get(PolicyHeadRow, policy_id, with_for_update=True)
            previous = None
            if head is None:
                head = PolicyHeadRow(policy_id=policy_id, serial=0)
                session.add(head)
            else:
                previous = session.get(PolicyVersionRow, head.version_id)
            head.version_id, head.serial = version.id, head.serial + 1
            head.published_by, head.reason, head.published_at = by, reason, utcnow()
            version.state = "published"
            session.flush()
            self.audit.append_in(session, [{
                "type": "policy.published", "policy_id": policy_id, "version": number,
                "content_hash": version.content_hash, "by": by, "reason": reason,
                "replaced": previous.number if previous is not None else None,
                "rollback": previous is not None and previous.number > number}])
            return PolicyHead.of(head, version)

    def published(self, policy_id: str) -> PolicyVersion | None:
        """The live version of a policy, or ``None`` when none was ever published."""
        with self.sessions() as session:
            head = session.get(PolicyHeadRow, policy_id)
            if head is None:
                return None
            row = session.get(PolicyVersionRow, head.version_id)
            return None if row is None else PolicyVersion.of(row)

    def heads(self) -> dict[str, PolicyHead]:
        """The published head of every policy (one small query: the gateway's reload check)."""
        with self.sessions() as session:
            return self._heads(session)

    @staticmethod
    def _heads(session: Session) -> dict[str, PolicyHead]:
        rows = session.execute(select(PolicyHeadRow, PolicyVersionRow).join(
            PolicyVersionRow, PolicyVersionRow.id == PolicyHeadRow.version_id)).all()
        return {head.policy_id: PolicyHead.of(head, version) for head, version in rows}

    def attach_tests(self, policy_id: str, jsonl: str, *, by: str) -> int:
        """Attach labelled rows to a policy (replacing any attached before); returns the count.

        Raises:
            InputError: a line is not a labelled row (the message names it).
        """
        rows = parse_rows(jsonl)
        with self.sessions.begin() as session:
            found = session.get(PolicyTestsetRow, policy_id)
            if found is None:
                found = PolicyTestsetRow(policy_id=policy_id)
                session.add(found)
            found.content, found.rows, found.updated_by = jsonl, len(rows), by
            found.updated_at = utcnow()
            self.audit.append_in(session, [{"type": "policy.tests_attached",
                                            "policy_id": policy_id, "rows": len(rows),
                                            "by": by}])
        return len(rows)

    def attached_tests(self, policy_id: str) -> list[LabelledRow]:
        """The labelled rows attached to a policy (none if nothing was attached)."""
        with self.sessions() as session:
            found = session.get(PolicyTestsetRow, policy_id)
        return [] if found is None else parse_rows(found.content)

    def test_rows(self, policies: Sequence[Policy]) -> list[LabelledRow]:
        """The test set of a policy: examples of each given version, attached and shipped rows.

        Repeated texts count once, so each version is measured on the same rows.
        """
        policy_id = policies[0].id
        rows = [row for p in policies for row in example_rows(p)]
        return unique([*rows, *self.attached_tests(policy_id), *shipped_rows(policy_id)])

    def compare(self, policy_id: str, number: int, classifier: Classifier, *,
                tier: str) -> Comparison:
        """Run the test set on a version and on the published one, side by side.

        When nothing is published, the comparison is with the built-in policy of that id,
        if there is one (what the gateway uses until a version is published).
        """
        draft = parse_version(self.version(policy_id, number))
        live_version = self.published(policy_id)
        live: Policy | None = None
        if live_version is not None:
            live = parse_version(live_version)
        elif policy_id in builtin_policies():
            live = _parse(builtin_path(policy_id).read_text("utf-8"), source=policy_id)
        rows = self.test_rows([draft] if live is None else [draft, live])
        sources: dict[str, int] = {}
        for row in rows:
            sources[row.source] = sources.get(row.source, 0) + 1
        return Comparison(
            run_testset(draft, rows, classifier, tier=tier, number=number),
            None if live is None else run_testset(
                live, rows, classifier, tier=tier,
                number=live_version.number if live_version is not None else None),
            sources)


def _row(policy_id: str, number: int, content: str, author: str,
         message: str) -> PolicyVersionRow:
    return PolicyVersionRow(id=f"pv_{secrets.token_hex(10)}", policy_id=policy_id, number=number,
                            content=content, content_hash=content_hash(content), author=author,
                            message=message, state="draft", created_at=utcnow())
