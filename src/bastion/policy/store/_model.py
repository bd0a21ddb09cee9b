"""What the policy store hands out: frozen records of versions and published heads."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from bastion.policy.store._tables import PolicyHeadRow, PolicyVersionRow

State = Literal["draft", "published"]


@dataclass(frozen=True)
class PolicyVersion:
    """One saved version of a policy.

    Attributes:
        number: the version's place in its policy's history, counting from 1.
        content: the Markdown text with its YAML front matter, as saved.
        content_hash: sha256 of ``content`` (UTF-8).
        state: ``draft`` until first published, then ``published``.
        warnings: the linter's warnings when the text was saved (never errors: those are
            refused).
    """

    id: str
    policy_id: str
    number: int
    content: str
    content_hash: str
    author: str
    message: str
    state: State
    created_at: datetime

    @classmethod
    def of(cls, row: PolicyVersionRow) -> PolicyVersion:
        """The record of a row."""
        state: State = "published" if row.state == "published" else "draft"
        return cls(row.id, row.policy_id, row.number, row.content, row.content_hash,
                   row.author, row.message, state, row.created_at)


@dataclass(frozen=True)
class PolicyHead:
    """The published version of one policy.

    Attributes:
        serial: grows by one with every publish of this policy (a rollback too), so a reader
            that remembers it knows when to reload.
    """

    policy_id: str
    version_id: str
    number: int
    content_hash: str
    serial: int
    published_by: str
    reason: str
    published_at: datetime

    @classmethod
    def of(cls, head: PolicyHeadRow, version: PolicyVersionRow) -> PolicyHead:
        """The record of a head row and the version it names."""
        return cls(head.policy_id, head.version_id, version.number, version.content_hash,
                   head.serial, head.published_by, head.reason, head.published_at)


@dataclass(frozen=True)
class PolicySummary:
    """One policy in the store: how many versions, the newest, and the published one."""

    policy_id: str
    versions: int
    latest: int
    published: int | None
    updated_at: datetime


def unified_diff(old: PolicyVersion, new: PolicyVersion, *, context: int = 3) -> str:
    """The unified diff from ``old`` to ``new`` (empty when the texts are the same)."""
    return "".join(difflib.unified_diff(
        old.content.splitlines(keepends=True), new.content.splitlines(keepends=True),
        fromfile=f"{old.policy_id} v{old.number}", tofile=f"{new.policy_id} v{new.number}",
        n=context))
