"""The network's state changes: applications, review, agreements, engagements, membership.

Every state change is written to the audit log in the same transaction as the change.
Joining an engagement issues a gateway key through :mod:`bastion.accounts`: a red-teamer
account whose ``engagement_until`` is the engagement's end (audited, exempt from abuse
throttling and suspension for the engagement's categories), and a key scoped to the
engagement's models, routes and categories, with its quotas, expiring when it ends.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bastion.accounts import PROXY_ROUTES, AccountStore, KeyInfo
from bastion.accounts._model import aware
from bastion.errors import InputError, NotFoundError
from bastion.monitor import AuditLog
from bastion.network._documents import DOCUMENTS, document
from bastion.network._model import EXPERTISE, ApplicationInfo, EngagementInfo, MemberInfo, Note
from bastion.network._tables import (
    Agreement,
    Application,
    ApplicationNote,
    Engagement,
    EngagementMember,
)
from bastion.store import utcnow
from bastion.web import User, UserStore, WebUser

LINK_VALID = timedelta(days=7)
MAX_TEXT = 5000


def _clean_text(label: str, text: str, limit: int = MAX_TEXT) -> str:
    text = text.strip()
    if len(text) > limit:
        raise InputError(f"{label} is {len(text)} characters long; keep it under {limit}")
    return text


def _clean_links(links: Sequence[str]) -> list[str]:
    out = [link.strip() for link in links if link.strip()]
    if len(out) > 10:
        raise InputError(f"{len(out)} links given; list at most 10")
    for link in out:
        parts = urlsplit(link)
        if parts.scheme not in ("http", "https") or not parts.netloc or len(link) > 500:
            raise InputError(f"link {link!r} is not an http(s) address; use e.g. "
                             "'https://github.com/you'")
    return out


class NetworkStore:
    """Applications, agreements and engagements over a session factory.

    Lifetime: one per app (``web_context(request).service(NetworkStore.of)``). Thread-safe:
    each call opens its own session. Failure: caller mistakes raise
    :class:`~bastion.errors.InputError` saying what to fix; database errors propagate.
    """

    def __init__(self, sessions: sessionmaker[Session], audit: AuditLog, users: UserStore,
                 accounts: AccountStore) -> None:
        self.sessions = sessions
        self.audit = audit
        self.users = users
        self.accounts = accounts

    @classmethod
    def of(cls, ctx: Any) -> NetworkStore:
        """The store of a :class:`~bastion.web.WebContext`."""
        return cls(ctx.sessions, ctx.audit, ctx.users, ctx.accounts)

    # applications -------------------------------------------------------------------------

    def apply(self, *, username: str, full_name: str, email: str, expertise: Sequence[str],
              languages: Sequence[str], links: Sequence[str], conflicts: str,
              motivation: str) -> ApplicationInfo:
        """Record an application (status ``pending``)."""
        unknown = sorted(set(expertise) - set(EXPERTISE))
        if unknown or not expertise:
            raise InputError(f"expertise {unknown or 'missing'}: pick one or more of "
                             f"{list(EXPERTISE)}")
        username = _clean_text("username", username, 100)
        if not username or not username.replace("-", "").replace("_", "").replace(".", "") \
                .isalnum():
            raise InputError(f"username {username!r} is not usable; use letters, digits, "
                             "'-', '_' or '.'")
        if "@" not in email or len(email) > 320:
            raise InputError(f"email {email!r} is not an address; use e.g. 'you@example.org'")
        row = Application(
            id=f"app_{secrets.token_hex(8)}", username=username,
            full_name=_clean_text("name", full_name, 200) or username, email=email.strip(),
            expertise=sorted(set(expertise)),
            languages=[lang.strip() for lang in languages if lang.strip()][:20],
            links=_clean_links(links), conflicts=_clean_text("conflicts of interest", conflicts),
            motivation=_clean_text("motivation", motivation), status="pending",
            created_at=utcnow())
        with self.sessions.begin() as session:
            session.add(row)
            session.flush()
            self._audit(session, "network.application.submitted", application_id=row.id,
                        username=username)
        return ApplicationInfo.of(row)

    def applications(self, status: str | None = None, *, limit: int | None = None,
                     offset: int = 0) -> list[ApplicationInfo]:
        """Applications, pending first, oldest first within a status (a page of them with
        ``limit`` and ``offset``)."""
        with self.sessions() as session:
            query = select(Application).order_by(
                case((Application.status == "pending", 0), else_=1), Application.created_at,
                Application.id).offset(offset).limit(limit)
            if status is not None:
                query = query.where(Application.status == status)
            return [ApplicationInfo.of(r) for r in session.execute(query).scalars()]

    def count_applications(self, status: str | None = None) -> int:
        """How many applications there are (with that status)."""
        with self.sessions() as session:
            query = select(func.count()).select_from(Application)
            if status is not None:
                query = query.where(Application.status == status)
            return int(session.execute(query).scalar_one())

    def application(self, application_id: str) -> ApplicationInfo:
        """One application with its notes."""
        with self.sessions() as session:
            row = self._application(session, application_id)
            notes = session.execute(select(ApplicationNote).where(
                ApplicationNote.application_id == row.id).order_by(ApplicationNote.id)
            ).scalars()
            return ApplicationInfo.of(row, tuple(Note.of(n) for n in notes))

    def add_note(self, application_id: str, text: str, *, by: str) -> None:
        """Add a reviewer's note."""
        text = _clean_text("note", text)
        if not text:
            raise InputError("the note is empty; write what you checked or concluded")
        with self.sessions.begin() as session:
            row = self._application(session, application_id)
            session.add(ApplicationNote(application_id=row.id, author_id=by, text=text,
                                        created_at=utcnow()))
            self._audit(session, "network.application.noted", application_id=row.id, by=by)

    def approve(self, application_id: str, *, by: str,
                reason: str = "") -> tuple[ApplicationInfo, str]:
        """Approve: create the member's red-teamer user; returns the one-time set-password
        token (shown once to the reviewer, who sends the link to the applicant)."""
        with self.sessions() as session:
            pending = self._application(session, application_id)
            self._must_be_pending(pending)
        self._name_is_free(pending.username)
        user = self.users.create(pending.username, "red-teamer", email=pending.email, by=by)
        token = self.users.issue_token(user.id, "set-password", valid=LINK_VALID, by=by)
        info = self._decide(application_id, "approved", reason.strip() or None, by, user.id)
        return info, token

    def _name_is_free(self, username: str) -> None:
        """Refuse an approval whose user name is taken, saying what the reviewer can do (the
        applicant cannot rename an application)."""
        taken = self.users.find(username)
        if taken is None:
            return
        if taken.disabled:
            raise InputError(f"{username!r} is the name of a removed member; to take them back, "
                             "an admin re-admits them on the Users page (they start afresh), "
                             "then reject this application saying so")
        raise InputError(f"a user named {username!r} exists already; reject this application "
                         "and ask the applicant to apply under another name")

    def reject(self, application_id: str, reason: str, *, by: str) -> ApplicationInfo:
        """Reject with a reason (required: the applicant is owed one)."""
        reason = _clean_text("reason", reason)
        if not reason:
            raise InputError("a rejection needs a reason; write one the applicant can read")
        return self._decide(application_id, "rejected", reason, by, None)

    def _decide(self, application_id: str, status: str, reason: str | None, by: str,
                user_id: str | None) -> ApplicationInfo:
        with self.sessions.begin() as session:
            row = self._application(session, application_id)
            self._must_be_pending(row)
            row.status, row.decision_reason, row.decided_by = status, reason, by
            row.decided_at, row.user_id = utcnow(), user_id
            self._audit(session, f"network.application.{status}", application_id=row.id,
                        by=by, reason=reason, user_id=user_id)
            return ApplicationInfo.of(row)

    @staticmethod
    def _must_be_pending(row: Application) -> None:
        if row.status != "pending":
            raise InputError(f"application {row.id!r} was {row.status} already; decisions are "
                             "final (ask the applicant to apply again)")

    # agreements ---------------------------------------------------------------------------

    def accept(self, user_id: str, name: str, version: str) -> None:
        """Record that the user accepted ``version`` of document ``name`` (now)."""
        try:
            current = document(name)
        except KeyError:
            raise InputError(f"no document named {name!r}; accept one of "
                             f"{[d.name for d in DOCUMENTS]}") from None
        if version != current.version:
            raise InputError(f"{current.title} version {version!r} is not current; reload "
                             f"the page and accept version {current.version!r}")
        with self.sessions.begin() as session:
            session.add(Agreement(user_id=user_id, document=name, version=version,
                                  accepted_at=utcnow()))
            self._audit(session, "network.agreement.accepted", user_id=user_id,
                        document=name, version=version)

    def accepted(self, user_id: str) -> dict[str, datetime]:
        """The current documents the user accepted, and when: the current version, accepted
        after they were last re-admitted (to the network or to an engagement)."""
        with self.sessions() as session:
            since = self._readmitted_at(session, user_id)
            rows = session.execute(select(Agreement).where(Agreement.user_id == user_id)
                                   ).scalars()
            current = {d.name: d.version for d in DOCUMENTS}
            return {r.document: r.accepted_at for r in rows
                    if current.get(r.document) == r.version
                    and (since is None or aware(r.accepted_at) > since)}

    def missing_agreements(self, user_id: str) -> list[str]:
        """Names of current documents the user has not accepted yet."""
        done = self.accepted(user_id)
        return [d.name for d in DOCUMENTS if d.name not in done]

    def lapsed_agreements(self, user_id: str) -> list[str]:
        """Names of current documents a member accepted once but must accept again: a new
        version came out, or staff re-admitted them after a removal since they accepted.

        Empty for a member who never accepted anything and was never re-admitted: joining an
        engagement asks them first (:meth:`join`), and they hold no engagement yet.
        """
        missing = self.missing_agreements(user_id)
        if not missing:
            return []
        with self.sessions() as session:
            ever = session.execute(select(Agreement.id).where(Agreement.user_id == user_id)
                                   .limit(1)).first()
            readmitted = self._readmitted_at(session, user_id)
        return missing if ever is not None or readmitted is not None else []

    def readmitted_at(self, user_id: str) -> datetime | None:
        """When the user was last re-admitted, to the network or to an engagement (``None``:
        never); agreements accepted before it no longer count."""
        with self.sessions() as session:
            return self._readmitted_at(session, user_id)

    # engagements --------------------------------------------------------------------------

    def create_engagement(self, *, name: str, description: str, models: Sequence[str],
                          routes: Sequence[str], categories_in: Sequence[str],
                          categories_out: Sequence[str], rules: str, starts_at: datetime,
                          ends_at: datetime, requests_per_minute: int | None,
                          tokens_per_minute: int | None, by: str) -> EngagementInfo:
        """Create an engagement."""
        bad_routes = sorted(set(routes) - set(PROXY_ROUTES))
        if bad_routes or not routes:
            raise InputError(f"routes {bad_routes or 'missing'}: pick from "
                             f"{list(PROXY_ROUTES)}")
        if not models:
            raise InputError("no target models: list at least one model name or pattern "
                             "(e.g. 'gpt-4o*')")
        if ends_at <= starts_at:
            raise InputError("the engagement ends before it starts; set the end after the "
                             "start")
        if overlap := sorted(set(categories_in) & set(categories_out)):
            raise InputError(f"categories {overlap} are both in and out of scope; pick one")
        row = Engagement(
            id=f"eng_{secrets.token_hex(8)}", name=_clean_text("name", name, 200),
            description=_clean_text("description", description), models=list(models),
            routes=sorted(set(routes)), categories_in=sorted(set(categories_in)),
            categories_out=sorted(set(categories_out)), rules=_clean_text("rules", rules),
            starts_at=starts_at, ends_at=ends_at, requests_per_minute=requests_per_minute,
            tokens_per_minute=tokens_per_minute, created_by=by, created_at=utcnow())
        if not row.name:
            raise InputError("the engagement needs a name")
        try:
            with self.sessions.begin() as session:
                session.add(row)
                session.flush()
                self._audit(session, "network.engagement.created", engagement_id=row.id,
                            by=by, name=row.name, models=row.models, routes=row.routes,
                            categories_in=row.categories_in, ends_at=ends_at.isoformat())
        except IntegrityError as exc:
            raise InputError(f"an engagement named {name!r} exists already; pick another "
                             "name") from exc
        return EngagementInfo.of(row)

    def engagements(self) -> list[EngagementInfo]:
        """Every engagement, newest start first, with members."""
        with self.sessions() as session:
            rows = session.execute(select(Engagement).order_by(Engagement.starts_at.desc())
                                   ).scalars().all()
            return [EngagementInfo.of(r, self._members(session, r.id)) for r in rows]

    def engagement(self, engagement_id: str) -> EngagementInfo:
        """One engagement with its members."""
        with self.sessions() as session:
            row = self._engagement(session, engagement_id)
            return EngagementInfo.of(row, self._members(session, row.id))

    def join(self, engagement_id: str, user: User) -> tuple[KeyInfo, str]:
        """Join an active engagement: issue a scoped, expiring gateway key (shown once)."""
        eng = self.engagement(engagement_id)
        now = utcnow()
        if not eng.active(now):
            raise InputError(f"engagement {eng.name!r} is {eng.state(now)}; keys are issued "
                             "only inside its time window")
        if missing := self.missing_agreements(user.id):
            raise InputError(f"accept {missing} first (Agreements page), then join")
        mine = [m for m in eng.members if m.user_id == user.id]
        if any(m.active for m in mine):
            raise InputError(f"you are in {eng.name!r} already; your key was shown once, when "
                             "you joined (if it is lost, tell the programme's staff)")
        if mine and mine[-1].readmitted_at is None:  # removed: a fresh key needs staff
            reason = mine[-1].removal_reason or "no reason given"
            raise InputError(f"you were removed from {eng.name!r} ({reason}); a removed member "
                             "cannot join it again until the programme's staff re-admit "
                             "them, so no key is issued")
        account = self.accounts.create_account(
            f"{user.username}@{eng.id}-{secrets.token_hex(3)}", "red-teamer",
            engagement=eng.name, engagement_until=eng.ends_at,
            requests_per_minute=eng.requests_per_minute,
            tokens_per_minute=eng.tokens_per_minute, by=user.id)
        info, key = self.accounts.create_key(
            account.id, routes=eng.routes, models=eng.models,
            categories=eng.categories_in or None, requests_per_minute=eng.requests_per_minute,
            tokens_per_minute=eng.tokens_per_minute, expires_at=eng.ends_at, by=user.id)
        with self.sessions.begin() as session:
            session.add(EngagementMember(engagement_id=eng.id, user_id=user.id,
                                         account_id=account.id, key_id=info.id,
                                         joined_at=now))
            self._audit(session, "network.engagement.joined", engagement_id=eng.id,
                        user_id=user.id, account_id=account.id, key_id=info.id)
        return info, key

    def remove_member(self, engagement_id: str, user_id: str, *, by: str,
                      reason: str) -> None:
        """Remove a member: their engagement key stops working at once."""
        with self.sessions() as session:
            member = session.execute(select(EngagementMember).where(
                EngagementMember.engagement_id == engagement_id,
                EngagementMember.user_id == user_id, EngagementMember.removed_at.is_(None))
            ).scalar_one_or_none()
            if member is None:
                raise InputError(f"user {user_id!r} is not an active member of engagement "
                                 f"{engagement_id!r}")
            key_id = member.key_id
        self.accounts.revoke_key(key_id, by=by)
        with self.sessions.begin() as session:
            row = session.execute(select(EngagementMember).where(
                EngagementMember.key_id == key_id)).scalar_one()
            row.removed_at, row.removed_by = utcnow(), by
            row.removal_reason = _clean_text("reason", reason) or None
            self._audit(session, "network.engagement.member_removed",
                        engagement_id=engagement_id, user_id=user_id, by=by, key_id=key_id,
                        reason=row.removal_reason)

    def remove_user(self, user_id: str, *, by: str, reason: str) -> int:
        """Remove a user from every engagement they are an active member of (their keys stop
        working at once); returns how many. Idempotent: the web app calls it when an admin
        disables the user, i.e. removes them from the network."""
        with self.sessions() as session:
            active = session.execute(select(EngagementMember.engagement_id).where(
                EngagementMember.user_id == user_id, EngagementMember.removed_at.is_(None))
            ).scalars().all()
        for engagement_id in active:
            self.remove_member(engagement_id, user_id, by=by, reason=reason)
        return len(active)

    def readmit_member(self, engagement_id: str, user_id: str, *, by: str,
                       reason: str = "") -> None:
        """Let a removed member join the engagement again.

        Nothing of the old membership comes back: their old key stays revoked, and joining
        issues a new account and key with the engagement's scope as it is then, after the
        member has accepted the current agreements again (what they accepted before the
        re-admission no longer counts; until then they reach no engagement or finding).
        Audited.

        Raises:
            InputError: the user's latest membership is active, or re-admitted already, or
                they were never a member.
        """
        with self.sessions.begin() as session:
            row = session.execute(select(EngagementMember).where(
                EngagementMember.engagement_id == engagement_id,
                EngagementMember.user_id == user_id).order_by(EngagementMember.id.desc())
            ).scalars().first()
            if row is None or row.removed_at is None or row.readmitted_at is not None:
                state = ("not a member" if row is None else "an active member"
                         if row.removed_at is None else "re-admitted already")
                raise InputError(f"user {user_id!r} is {state} of engagement "
                                 f"{engagement_id!r}; only a removed member can be re-admitted")
            row.readmitted_at, row.readmitted_by = utcnow(), by
            self._audit(session, "network.engagement.member_readmitted",
                        engagement_id=engagement_id, user_id=user_id, by=by,
                        reason=_clean_text("reason", reason) or None,
                        old_key_id=row.key_id)

    # helpers ------------------------------------------------------------------------------

    def _readmitted_at(self, session: Session, user_id: str) -> datetime | None:
        """When the user was last re-admitted: to the network (``web_users.readmitted_at``) or
        to an engagement; agreements accepted before it no longer count."""
        user = session.get(WebUser, user_id)
        member = session.execute(select(func.max(EngagementMember.readmitted_at)).where(
            EngagementMember.user_id == user_id)).scalar()
        times = [aware(t) for t in (None if user is None else user.readmitted_at, member)
                 if t is not None]
        return max(times, default=None)

    def _members(self, session: Session, engagement_id: str) -> tuple[MemberInfo, ...]:
        rows = session.execute(
            select(EngagementMember, WebUser.username)
            .join(WebUser, WebUser.id == EngagementMember.user_id)
            .where(EngagementMember.engagement_id == engagement_id)
            .order_by(EngagementMember.id)).all()
        return tuple(MemberInfo.of(row, name) for row, name in rows)

    def _application(self, session: Session, application_id: str) -> Application:
        row = session.get(Application, application_id)
        if row is None:
            raise NotFoundError(f"no application {application_id!r}; open the review queue")
        return row

    def _engagement(self, session: Session, engagement_id: str) -> Engagement:
        row = session.get(Engagement, engagement_id)
        if row is None:
            raise NotFoundError(f"no engagement {engagement_id!r}; open the engagements list")
        return row

    def _audit(self, session: Session, kind: str, **fields: Any) -> None:
        self.audit.append_in(session, [{"type": kind, **fields}])
