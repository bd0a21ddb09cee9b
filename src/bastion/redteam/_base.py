"""The plugin contracts of red teaming: probes, converters, strategies, targets and scorers.

Every plugin class carries its registry ``name`` and a one-line ``description`` as class
attributes, takes its settings as keyword arguments, and is created through
:func:`bastion.redteam.create`.
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from collections.abc import Sequence
from types import TracebackType
from typing import ClassVar

from bastion.redteam._plan import Plan
from bastion.redteam._types import Attempt, Case, Message, Reply, Score, Secrets


class Probe(ABC):
    """A source of attack cases.

    Lifetime: cheap to create; :meth:`cases` is pure and deterministic (same options, same
    cases, same ids), so campaigns can resume and be compared run to run.
    Concurrency: stateless after construction; share freely.
    Failure: a probe backed by an optional data set returns no cases when the data is absent
    (``available()`` says why); a bad option raises :class:`~bastion.errors.ConfigError`.
    """

    name: ClassVar[str] = "probe"
    description: ClassVar[str] = ""
    owasp: ClassVar[tuple[str, ...]] = ()
    atlas: ClassVar[tuple[str, ...]] = ()

    @abstractmethod
    def cases(self) -> list[Case]:
        """Every case of this probe, in a stable order."""

    def available(self) -> str | None:
        """None when the probe can produce cases; otherwise why not (e.g. data missing)."""
        return None


class Converter(ABC):
    """Rewrites a prompt (encoding, obfuscation, wrapping); stacks with other converters.

    Lifetime: create once per campaign. Concurrency: ``convert`` must be safe to call from
    many tasks; all randomness comes from the ``rng`` argument (seeded per attempt), never from
    global state, so runs are reproducible. Failure: converters that call an attacker model
    raise :class:`~bastion.redteam.AttackerError`; the attempt is then recorded as an error.
    """

    name: ClassVar[str] = "converter"
    description: ClassVar[str] = ""
    needs_attacker: ClassVar[bool] = False

    @abstractmethod
    def convert(self, text: str, rng: random.Random) -> str:
        """The converted text."""

    async def aconvert(self, text: str, rng: random.Random) -> str:
        """Async form; converters doing I/O override it."""
        return self.convert(text, rng)


class Strategy(ABC):
    """Turns a case into a conversation plan (see :mod:`bastion.redteam._plan`).

    Lifetime: create once per campaign; :meth:`plan` makes a fresh generator per attempt.
    Concurrency: plans share nothing. Failure: a plan may simply stop; effects that fail
    (target down) end the attempt as an error, the generator is closed.
    """

    name: ClassVar[str] = "strategy"
    description: ClassVar[str] = ""
    multi_turn: ClassVar[bool] = False
    needs_attacker: ClassVar[bool] = False

    @abstractmethod
    def plan(self, case: Case, rng: random.Random) -> Plan:
        """A generator of effects for one attempt at ``case``."""


class Target(ABC):
    """The system under test: a conversation in, one response text out.

    Lifetime: use as ``async with target:`` (or call :meth:`aclose`); connections open lazily
    and close on exit. Concurrency: :meth:`send` is called from many tasks at once and must be
    safe to do so. Failure: :meth:`send` raises :class:`~bastion.redteam.TargetError`
    (``retryable`` for timeouts, 429 and 5xx). A guardrail that blocks the request is not a
    failure: return ``Reply(text, blocked=True)``; it scores as a refusal.
    """

    name: ClassVar[str] = "target"
    description: ClassVar[str] = ""

    @property
    def secrets(self) -> Secrets:
        """What the target was told to keep secret: planted canaries and its system prompt."""
        return Secrets()

    @property
    def credentials(self) -> tuple[str, ...]:
        """Values the target sends that must never be recorded (an API key, a secret
        header's value): a reply or an error that echoes one is logged with it replaced by
        ``[redacted]`` (see :func:`bastion.redteam._config.credentials`)."""
        return ()

    @property
    def multi_turn(self) -> bool:
        """Whether :meth:`send` can carry a whole conversation (history or session)."""
        return True

    @property
    def context_refused(self) -> str | None:
        """Why :meth:`send` cannot carry the context a case plants before its prompt (a
        retrieved document, a tool result) and how to fix that; None when it can. A campaign
        with such cases is refused before it starts."""
        return None

    @abstractmethod
    async def send(self, messages: Sequence[Message]) -> Reply:
        """Send a conversation (ending with a user message) and return the reply."""

    async def aclose(self) -> None:  # noqa: B027 - optional hook, most targets hold nothing
        """Release connections. Safe to call twice."""

    async def __aenter__(self) -> Target:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.aclose()


class Scorer(ABC):
    """Judges whether an attempt succeeded by one criterion.

    Lifetime: create once per campaign (may load a model). Concurrency: :meth:`score` is
    awaited from many tasks; CPU-bound scorers are fast or push work to a thread.
    Failure: never raises for runtime failures; return a :class:`Score` with
    ``success=None`` and the reason, so an error never counts as a (non-)success silently.
    """

    name: ClassVar[str] = "scorer"
    description: ClassVar[str] = ""

    @abstractmethod
    async def score(self, attempt: Attempt, secrets: Secrets) -> Score:
        """Score a finished attempt; ``secrets`` are what the target must not reveal."""
