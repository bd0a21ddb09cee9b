"""What a reporter submits (typed, validated) and what the store gives back (frozen).

A submission keeps hostile text intact: transcripts full of HTML, script tags, markdown links
and control characters are stored as sent and rendered inert by whoever shows them. Limits
keep one submission from filling the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bastion.errors import InputError
from bastion.findings._severity import SeverityInputs, reproducibility_of

Role = Literal["system", "user", "assistant", "tool"]
MAX_TURN_CHARS = 1_000_000
MAX_TURNS = 500
MAX_TRANSCRIPT_CHARS = 4_000_000


class TurnIn(BaseModel):
    """One message of the transcript, as sent or received."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    role: Role
    content: str = Field(max_length=MAX_TURN_CHARS)


class SeverityIn(BaseModel):
    """The rubric inputs (1-4, 1-4, 1-3, 1-3; see docs/findings.md).

    ``reproducibility`` may be left out when the submission carries a ``repro_rate``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    impact: int = Field(ge=1, le=4)
    reproducibility: int | None = Field(default=None, ge=1, le=4)
    breadth: int = Field(ge=1, le=3)
    effort: int = Field(ge=1, le=3)


class Submission(BaseModel):
    """A finding as a reporter (or an importer) submits it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str = Field(min_length=1, max_length=300)
    target: str = Field(min_length=1, max_length=200)
    model: str | None = Field(default=None, max_length=200)
    engagement: str | None = Field(default=None, max_length=200)
    owasp: str | None = Field(default=None, max_length=16)
    atlas: str | None = Field(default=None, max_length=32)
    policy_category: str | None = Field(default=None, max_length=100)
    transcript: list[TurnIn] = Field(min_length=1, max_length=MAX_TURNS)
    steps: str = Field(default="", max_length=100_000)
    repro_rate: float | None = Field(default=None, ge=0.0, le=1.0)
    impact: str = Field(default="", max_length=100_000)
    severity: SeverityIn
    source: str = Field(default="manual", max_length=40)
    source_ref: str | None = Field(default=None, max_length=300)
    probe: dict[str, Any] | None = None

    @field_validator("transcript")
    @classmethod
    def _has_attack(cls, turns: list[TurnIn]) -> list[TurnIn]:
        if not any(t.role == "user" for t in turns):
            raise ValueError("the transcript needs at least one 'user' turn (the attack)")
        if sum(len(t.content) for t in turns) > MAX_TRANSCRIPT_CHARS:
            raise ValueError(f"the transcript is longer than {MAX_TRANSCRIPT_CHARS:,} "
                             "characters; attach the rest as a file")
        return turns

    def severity_inputs(self) -> SeverityInputs:
        """The rubric inputs, reproducibility taken from ``repro_rate`` when not given."""
        repro = self.severity.reproducibility
        if repro is None:
            if self.repro_rate is None:
                raise InputError("severity.reproducibility is missing and there is no "
                                 "repro_rate to derive it from; give one of them")
            repro = reproducibility_of(self.repro_rate)
        return SeverityInputs(self.severity.impact, repro, self.severity.breadth,
                              self.severity.effort)


def parse_submission(data: Any) -> Submission:
    """Validate raw data (a parsed JSON/YAML document) into a :class:`Submission`.

    Raises:
        InputError: names every bad field, why, and what is expected.
    """
    if not isinstance(data, dict):
        raise InputError("a finding must be a JSON object with 'title', 'target', "
                         "'transcript' and 'severity'")
    try:
        return Submission.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'finding'}: {e['msg']}"
                             for e in exc.errors())
        raise InputError(f"the finding is not valid: {problems}") from exc


@dataclass(frozen=True)
class Transition:
    """One recorded change of state."""

    from_state: str
    to_state: str
    actor: str
    reason: str
    at: datetime


@dataclass(frozen=True)
class Comment:
    """A comment and the members it mentions."""

    id: int
    author: str
    body: str
    mentions: tuple[str, ...]
    at: datetime


@dataclass(frozen=True)
class Attachment:
    """An attached file's description (its bytes come from ``FindingStore.attachment_data``)."""

    id: int
    name: str
    media_type: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Finding:
    """A stored finding (see :class:`Submission` for the submitted fields)."""

    id: int
    title: str
    target: str
    model: str | None
    engagement: str | None
    owasp: str | None
    atlas: str | None
    atlas_name: str | None
    policy_category: str | None
    transcript: tuple[dict[str, str], ...]
    steps: str
    repro_rate: float | None
    impact: str
    severity_inputs: SeverityInputs
    severity: str
    state: str
    reporter: str
    duplicate_of: int | None
    probe: dict[str, Any] | None
    source: str
    source_ref: str | None
    created_at: datetime
    updated_at: datetime
    due_at: datetime | None
    triaged_at: datetime | None
    fixed_at: datetime | None
    reopened: int

    def overdue(self, now: datetime | None = None) -> bool:
        """Whether the SLA that runs now (triage or fix) has run out."""
        if self.due_at is None:
            return False
        due = self.due_at if self.due_at.tzinfo else self.due_at.replace(tzinfo=UTC)
        return (now or datetime.now(UTC)) > due
