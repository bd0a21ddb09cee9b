"""The playbook contract, what it proposes and does, and the playbook registry.

A playbook turns an incident's *structured* facts (accounts, keys, categories, detector
kinds, severities) into proposed actions, and carries one out after a person confirms it.
Free text in an incident (prompts, summaries, account names) never chooses an action or its
target: at most it is carried as the *content* of an action (the example text added to a
policy), and then only after a person has read it in the proposal.

Register a playbook with :func:`register_playbook` (built-ins do so in
:mod:`bastion.copilot._playbooks`); third-party packages add an entry point to the group
``bastion.copilot.playbooks`` pointing at the class.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from bastion.errors import ConfigError

if TYPE_CHECKING:
    from bastion.accounts import AccountStore
    from bastion.copilot._incident import IncidentLike
    from bastion.findings import FindingStore
    from bastion.policy.store import PolicyStore

ENTRY_POINT_GROUP = "bastion.copilot.playbooks"


@dataclass(frozen=True)
class Draft:
    """A proposed action before it is stored: which playbook, on what, and why.

    Attributes:
        params: JSON-ready arguments of :meth:`Playbook.execute`; checked again at confirm.
        rank: lower is more urgent (suspensions before findings).
    """

    playbook: str
    params: dict[str, Any]
    title: str
    rationale: str
    rank: int = 50


@dataclass(frozen=True)
class RegressionTarget:
    """Where regression probes are sent: the gateway's (or a model's) ``/v1`` root.

    Attributes:
        base_url: the ``/v1`` root (``$BASTION_FINDINGS_TARGET_URL`` in the web app).
        kind: ``gateway`` (a Bastion gateway: a block counts as a refusal; key in
            ``$BASTION_API_KEY``) or ``openai`` (any OpenAI-compatible endpoint).
    """

    base_url: str
    kind: Literal["gateway", "openai"] = "gateway"


@dataclass(frozen=True)
class ActionContext:
    """What playbooks act through; a playbook whose part is missing fails with a
    :class:`~bastion.errors.ConfigError` saying what to configure.

    Attributes:
        accounts: suspends accounts and rotates keys (each change audited by the store).
        policies: the versioned policy store; ``add_policy_example`` saves a new draft
            version there, reviewed and published like any other edit.
        findings: the findings store; ``open_finding`` files a finding there and
            ``start_regression_campaign`` re-tests the fixed findings it holds.
        incident: reads an incident by id (the monitor's), for the evidence a finding
            carries.
        regression: where ``start_regression_campaign`` sends regression probes.
        finding_target: the system a finding opened from an incident is filed against (its
            ``target``: developers who own it see the finding).
    """

    accounts: AccountStore
    policies: PolicyStore | None = None
    findings: FindingStore | None = None
    incident: Callable[[str], IncidentLike] | None = None
    regression: RegressionTarget | None = None
    finding_target: str = "gateway"


@dataclass(frozen=True)
class Outcome:
    """What an executed action did.

    Attributes:
        summary: one line for the person who confirmed it.
        details: JSON-ready facts, written to the audit log.
        secret: a value to show the confirming person once (a new API key); never stored,
            never audited.
    """

    summary: str
    details: dict[str, Any] = field(default_factory=dict)
    secret: str | None = field(default=None, repr=False)


class Playbook(ABC):
    """Proposes and carries out one kind of response.

    Lifetime: stateless; one instance serves every incident. Concurrency: share freely.
    Failure: :meth:`execute` raises :class:`~bastion.errors.UserError` when the action cannot
    apply (account unknown, findings store not configured); the proposal is then marked failed
    and the failure audited. Nothing runs without a person's confirmation.
    """

    name: ClassVar[str] = "playbook"
    description: ClassVar[str] = ""

    @abstractmethod
    def propose(self, incident: IncidentLike) -> list[Draft]:
        """Drafts for this incident, from its structured facts only."""

    @abstractmethod
    def execute(self, params: dict[str, Any], context: ActionContext, *, by: str,
                reason: str, proposal_id: str) -> Outcome:
        """Carry out a confirmed proposal."""


_REGISTRY: dict[str, type[Playbook]] = {}
_LOADED = False


def register_playbook(cls: type[Playbook]) -> type[Playbook]:
    """Register a playbook class under its ``name`` (usable as a decorator)."""
    if cls.name in _REGISTRY and _REGISTRY[cls.name] is not cls:
        raise ConfigError(f"a playbook named {cls.name!r} is registered already "
                          f"({_REGISTRY[cls.name].__qualname__}); pick another name")
    _REGISTRY[cls.name] = cls
    return cls


def playbooks() -> dict[str, Playbook]:
    """One instance of every registered playbook (built-ins and entry points), by name."""
    global _LOADED  # noqa: PLW0603 - entry points are loaded once per process
    if not _LOADED:
        from bastion.copilot import (  # noqa: F401, PLC0415 - registers built-ins
            _finding_playbooks,
            _playbooks,
        )
        for point in entry_points(group=ENTRY_POINT_GROUP):
            register_playbook(point.load())
        _LOADED = True
    return {name: cls() for name, cls in sorted(_REGISTRY.items())}


def playbook(name: str) -> Playbook:
    """The playbook registered as ``name``.

    Raises:
        ConfigError: no such playbook.
    """
    found = playbooks()
    if name not in found:
        raise ConfigError(f"no playbook named {name!r}; registered: {sorted(found)}")
    return found[name]
