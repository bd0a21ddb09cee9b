"""Rows to frozen records, and the limits on attachments."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

from bastion.errors import InputError
from bastion.findings._model import Attachment, Comment, Finding, Transition
from bastion.findings._severity import SeverityInputs
from bastion.findings._tables import AttachmentRow, CommentRow, FindingRow, TransitionRow

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
# Media types a finding may carry, each with how its bytes must start (None: any UTF-8 text).
ATTACHMENT_TYPES: dict[str, bytes | None] = {
    "text/plain": None,
    "text/markdown": None,
    "application/json": None,
    "image/png": b"\x89PNG\r\n\x1a\n",
    "image/jpeg": b"\xff\xd8\xff",
    "application/pdf": b"%PDF-",
}


def utc(value: datetime | None) -> datetime | None:
    """A stored time as timezone-aware UTC (SQLite returns naive times)."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def finding(row: FindingRow) -> Finding:
    """The record of a row."""
    created = utc(row.created_at)
    updated = utc(row.updated_at)
    assert created is not None
    assert updated is not None
    return Finding(
        id=row.id, title=row.title, target=row.target, model=row.model,
        engagement=row.engagement, owasp=row.owasp, atlas=row.atlas, atlas_name=row.atlas_name,
        policy_category=row.policy_category,
        transcript=tuple(dict(t) for t in row.transcript), steps=row.steps,
        repro_rate=row.repro_rate, impact=row.impact,
        severity_inputs=SeverityInputs(row.sev_impact, row.sev_repro, row.sev_breadth,
                                       row.sev_effort),
        severity=row.severity, state=row.state, reporter=row.reporter,
        duplicate_of=row.duplicate_of, probe=row.probe, source=row.source,
        source_ref=row.source_ref, created_at=created, updated_at=updated,
        due_at=utc(row.due_at), triaged_at=utc(row.triaged_at), fixed_at=utc(row.fixed_at),
        reopened=row.reopened)


def transition(row: TransitionRow) -> Transition:
    """The record of a transition row."""
    at = utc(row.at)
    assert at is not None
    return Transition(row.from_state, row.to_state, row.actor, row.reason, at)


def comment(row: CommentRow) -> Comment:
    """The record of a comment row."""
    at = utc(row.at)
    assert at is not None
    return Comment(row.id, row.author, row.body, tuple(row.mentions), at)


def attachment(row: AttachmentRow) -> Attachment:
    """The description of an attachment row."""
    return Attachment(row.id, row.name, row.media_type, row.size, row.sha256)


def check_attachment(name: str, media_type: str, data: bytes) -> str:
    """The sha256 of an acceptable attachment.

    Raises:
        InputError: too large, a type not allowed, or bytes that are not what the type says.
    """
    if not name or len(name) > 255 or any(c in name for c in "/\\\x00"):
        raise InputError(f"attachment name {name[:80]!r} is not usable: give a plain file "
                         "name of 1 to 255 characters without slashes")
    if media_type not in ATTACHMENT_TYPES:
        raise InputError(f"attachment type {media_type!r} is not accepted; use one of "
                         f"{', '.join(ATTACHMENT_TYPES)}")
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise InputError(f"attachment {name!r} is {len(data):,} bytes; the limit is "
                         f"{MAX_ATTACHMENT_BYTES:,} (compress it or split it)")
    magic = ATTACHMENT_TYPES[media_type]
    if magic is not None and not data.startswith(magic):
        raise InputError(f"attachment {name!r} is declared {media_type!r} but its bytes are "
                         "not that format; declare its real type")
    if magic is None:
        try:
            text = data.decode("utf-8")
            if media_type == "application/json":
                json.loads(text)
        except (UnicodeDecodeError, ValueError) as exc:
            raise InputError(f"attachment {name!r} is declared {media_type!r} but is not "
                             f"valid {'JSON' if 'json' in media_type else 'UTF-8 text'}: "
                             f"{type(exc).__name__}") from exc
    return hashlib.sha256(data).hexdigest()
