"""The policy data model: what a loaded, validated policy looks like in memory."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Action = Literal["block", "flag", "redact", "allow"]
#: Kinds of value the redaction detectors find (:mod:`bastion.redact`), each checked as its
#: format allows: Luhn for cards, mod-97 for IBANs, the SSA's issued ranges for SSNs,
#: libphonenumber for phone numbers.
ValueKind = Literal["EMAIL", "PHONE", "CARD", "IBAN", "SSN", "SECRET", "PRIVATE_KEY"]
Severity = Literal["low", "medium", "high", "critical"]

#: Actions ordered from weakest to strongest; the overall action of a verdict is the strongest
#: action among the categories it violates.
ACTION_RANK: dict[Action, int] = {"allow": 0, "flag": 1, "redact": 2, "block": 3}
SEVERITY_WEIGHT: dict[Severity, float] = {"low": 1.0, "medium": 2.0, "high": 4.0, "critical": 8.0}

CODE_RE = re.compile(r"^[A-Z][A-Z0-9]{1,11}$")
RULE_ID_RE = re.compile(r"^([A-Z][A-Z0-9]{1,11})-([A-Z]?[0-9]{1,3})$")


def rule_category(rule_id: str) -> str:
    """Return the category code a rule id belongs to (``'VIO-3'`` -> ``'VIO'``)."""
    return rule_id.rsplit("-", 1)[0]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Category(_Strict):
    """One category of a policy, as written in the front matter."""

    code: str = Field(description="Short upper-case code, e.g. 'VIO'; rule ids start with it.")
    name: str = Field(min_length=1)
    action: Action
    threshold: float = Field(description="Score at or above which the category is violated.")
    severity: Severity = "medium"
    head: str | None = Field(
        default=None,
        description="Name of a shipped embedded head; without one the policy reader scores "
        "the category from its rules and examples.",
    )
    rules_only: bool = Field(
        default=False,
        description="Scored by its keywords and patterns alone (e.g. card numbers, API keys): "
        "model tiers give it 0 instead of reading its rules.",
    )
    keywords: dict[str, list[str]] = Field(default_factory=dict)
    patterns: dict[str, list[str]] = Field(default_factory=dict)
    values: dict[str, list[ValueKind]] = Field(
        default_factory=dict,
        description="Maps a rule id to kinds of value (CARD, IBAN, SSN, EMAIL, PHONE, SECRET, "
        "PRIVATE_KEY): a keyword or pattern hit of that rule counts only where the redaction "
        "detectors find such a value, checksum and all, so sixteen digits that fail Luhn are "
        "no card.",
    )
    unless: list[str] = Field(
        default_factory=list,
        description="RE2 patterns of exceptions: when one matches, keyword and pattern hits of "
        "this category are set aside and the model tiers decide.",
    )

    @field_validator("code")
    @classmethod
    def _code_shape(cls, value: str) -> str:
        if not CODE_RE.match(value):
            raise ValueError(
                f"code {value!r} must be 2-12 upper-case letters or digits starting with a "
                "letter, e.g. 'VIO'"
            )
        return value

    @field_validator("threshold")
    @classmethod
    def _threshold_range(cls, value: float) -> float:
        if not 0.0 < value < 1.0:
            raise ValueError(f"threshold {value!r} is out of range; use a number between 0 and 1")
        return value


class Escalate(_Strict):
    """The uncertainty band: scores in ``[low, high)`` go to the deeper tier of a cascade."""

    low: float = Field(ge=0.0, le=1.0)
    high: float = Field(ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _ordered(self) -> Escalate:
        if self.low >= self.high:
            raise ValueError(f"escalate band low={self.low} must be below high={self.high}")
        return self


class FrontMatter(_Strict):
    """The YAML front matter of a policy file."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    version: str = Field(min_length=1)
    title: str = Field(min_length=1)
    description: str | None = None
    categories: list[Category] = Field(default_factory=list)
    escalate: Escalate | None = None
    include: list[str] = Field(default_factory=list)

    @field_validator("version", mode="before")
    @classmethod
    def _version_as_text(cls, value: object) -> object:
        return str(value) if isinstance(value, int | float) else value


@dataclass(frozen=True)
class Rule:
    """A rule from the Criteria section: ``- **VIO-1** text``."""

    id: str
    category: str
    text: str
    violates: bool
    line: int


@dataclass(frozen=True)
class Example:
    """A labelled example from the Examples section: ``- violates VIO-1: "text"``."""

    text: str
    violates: bool
    rule_id: str
    category: str
    line: int


@dataclass(frozen=True)
class PolicyRef:
    """What every verdict records about the policy that produced it."""

    id: str
    version: str
    hash: str


@dataclass(frozen=True, eq=False)
class Policy:
    """A loaded, validated policy (its includes already merged).

    Attributes:
        body: the Markdown body, verbatim (with included policies' bodies appended); this is
            what an LLM tier receives as its system message.
        hash: sha256 of the policy file's bytes and those of everything it includes.
    """

    id: str
    version: str
    title: str
    categories: tuple[Category, ...]
    rules: tuple[Rule, ...]
    examples: tuple[Example, ...]
    body: str
    hash: str
    source: str
    escalate: Escalate | None = None
    description: str | None = None
    includes: tuple[str, ...] = field(default=())

    def __hash__(self) -> int:
        return hash(self.hash)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Policy) and other.hash == self.hash

    @property
    def ref(self) -> PolicyRef:
        """The id, version and hash recorded in verdicts."""
        return PolicyRef(self.id, self.version, self.hash)

    def category(self, code: str) -> Category:
        """Return the category with this code, or raise ``KeyError``."""
        for category in self.categories:
            if category.code == code:
                return category
        raise KeyError(code)

    def rules_for(self, code: str, *, violates: bool = True) -> tuple[Rule, ...]:
        """Rules of one category, violating ones by default."""
        return tuple(r for r in self.rules if r.category == code and r.violates is violates)

    def examples_for(self, code: str) -> tuple[Example, ...]:
        """Labelled examples that belong to one category."""
        return tuple(e for e in self.examples if e.category == code)
