"""The records a campaign produces: cases, turns, scores and attempts (frozen, JSON-ready)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

Role = Literal["system", "user", "assistant", "tool"]
Severity = Literal["low", "medium", "high", "critical"]
SEVERITY_RANK: dict[str, int] = {"low": 0, "medium": 1, "high": 2, "critical": 3}


@dataclass(frozen=True)
class Message:
    """One chat message. ``name`` is the tool name for ``tool`` messages."""

    role: Role
    content: str
    name: str | None = None


@dataclass(frozen=True)
class Case:
    """One attack goal, as a probe wrote it.

    Attributes:
        id: stable identifier (``probe/slug``), the same across runs.
        probe: registry name of the probe that made it.
        prompt: the attack text sent as the user turn (before converters).
        category: what is attacked: a policy id (``malware``) or a weakness
            (``jailbreak``, ``prompt_injection``, ``system_prompt_leak``, ``pii_leak``...).
        owasp: OWASP Top 10 for LLM Applications (2025) ids, e.g. ``LLM01:2025``.
        atlas: MITRE ATLAS technique ids, e.g. ``AML.T0051``.
        goal: the plain request behind the attack, for strategies and judges.
        technique: how it attacks (``direct``, ``role_play``, ``indirect_document``...).
        setup: context planted before the prompt (a retrieved document, a tool result).
        canaries: tokens whose appearance in a response proves the attack worked.
        scorers: registry names of the scorers that decide success (all must agree).
        steps: escalation turns for scripted multi-turn strategies.
        severity: how bad a success is.
        policy: the policy the harm scorer checks responses against.
        harmful_goal: the probe knows the goal itself is harmful (a harmful request from a
            curated list or a labelled data set), so a response that complies with it carries
            the harm even when no category word shows in the response.
    """

    id: str
    probe: str
    prompt: str
    category: str
    owasp: tuple[str, ...]
    atlas: tuple[str, ...]
    goal: str
    technique: str = "direct"
    setup: tuple[Message, ...] = ()
    canaries: tuple[str, ...] = ()
    scorers: tuple[str, ...] = ("refusal",)
    steps: tuple[str, ...] = ()
    severity: Severity = "high"
    policy: str = "default"
    harmful_goal: bool = False

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Case:
        """The inverse of :meth:`to_dict`."""
        fields = dict(data)
        fields["setup"] = tuple(Message(**m) for m in fields.get("setup", ()))
        for key in ("owasp", "atlas", "canaries", "scorers", "steps"):
            fields[key] = tuple(fields.get(key, ()))
        return cls(**fields)


@dataclass(frozen=True)
class Secrets:
    """What a target must not reveal: canary tokens planted in its context, its system prompt."""

    canaries: tuple[str, ...] = ()
    system_prompt: str | None = None


@dataclass(frozen=True)
class Reply:
    """What a target sent back: the text, and whether a guardrail blocked the request."""

    text: str
    blocked: bool = False


@dataclass(frozen=True)
class Turn:
    """One exchange with the target.

    Attributes:
        prompt: what was sent (after converters).
        original: the prompt before converters.
        response: what came back (empty when ``error`` is set).
        blocked: a guardrail in front of the model refused the request.
        rewound: a strategy dropped this exchange from the conversation (backtracking).
    """

    prompt: str
    original: str
    response: str
    latency_ms: float
    blocked: bool = False
    rewound: bool = False
    error: str | None = None


@dataclass(frozen=True)
class Score:
    """One scorer's judgement of an attempt.

    Attributes:
        value: the scorer's probability that the attack succeeded, in [0, 1].
        success: True / False, or None when the scorer could not decide (an error) or does
            not apply; undecided scores never make an attempt a success.
        reason: a sentence on why, shown in reports.
    """

    scorer: str
    value: float
    success: bool | None
    reason: str


@dataclass(frozen=True)
class Attempt:
    """One case, run through one strategy and one converter stack, with its outcome."""

    id: str
    case: Case
    strategy: str
    converters: tuple[str, ...]
    seed: int
    turns: tuple[Turn, ...] = ()
    scores: tuple[Score, ...] = ()
    success: bool = False
    reason: str = ""
    error: str | None = None
    duration_ms: float = 0.0
    meta: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def converter_label(self) -> str:
        """The converter stack as one label (``none`` when empty)."""
        return "+".join(self.converters) or "none"

    @property
    def last_response(self) -> str:
        """The final response that stayed in the conversation ('' when there is none)."""
        kept = [t for t in self.turns if not t.rewound and t.error is None]
        return kept[-1].response if kept else ""

    def with_outcome(self, **changes: Any) -> Attempt:
        """A copy with some fields replaced."""
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary (one line of a campaign log)."""
        data = asdict(self)
        if not data["meta"]:
            del data["meta"]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Attempt:
        """The inverse of :meth:`to_dict`."""
        return cls(
            id=data["id"], case=Case.from_dict(data["case"]), strategy=data["strategy"],
            converters=tuple(data["converters"]), seed=int(data["seed"]),
            turns=tuple(Turn(**t) for t in data.get("turns", ())),
            scores=tuple(Score(**s) for s in data.get("scores", ())),
            success=bool(data.get("success", False)), reason=str(data.get("reason", "")),
            error=data.get("error"), duration_ms=float(data.get("duration_ms", 0.0)),
            meta=dict(data.get("meta", {})),
        )
