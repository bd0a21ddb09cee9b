"""Conversation plans: multi-turn attacks as generators that yield effects.

A strategy never talks to the network itself. It yields *effects* and receives their results:

* :class:`Send` a prompt to the target; receives the response text.
* :class:`Consult` the attacker model with messages; receives its reply.
* :class:`Check` how likely a response is a refusal; receives a float in [0, 1].
* :class:`Rewind` the last exchange out of the conversation (backtracking); receives None.
* :class:`OnTopic` how close a text is to the goal (a prompt before sending it, a response
  before calling it a success); receives a float in [0, 1].

The same generator then runs under a synchronous driver (:func:`drive`) or an asynchronous
one (:func:`adrive`): one implementation, two worlds, and plans are unit-testable with plain
functions.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass
from typing import Any

from bastion.redteam._types import Message


@dataclass(frozen=True)
class Send:
    """Send ``prompt`` as the next user turn; the result is the response text."""

    prompt: str


@dataclass(frozen=True)
class Consult:
    """Ask the attacker model; the result is its reply text."""

    messages: tuple[Message, ...]


@dataclass(frozen=True)
class Check:
    """Ask the refusal detector; the result is the probability ``text`` is a refusal, read as
    the verdict reads it (whole, then voice by voice; see
    :mod:`bastion.redteam.scorers._compliance`)."""

    text: str


@dataclass(frozen=True)
class Rewind:
    """Drop the last exchange from the conversation the target sees; the result is None."""


@dataclass(frozen=True)
class OnTopic:
    """Ask how close ``text`` is to ``goal`` (:func:`bastion.redteam.scorers._topic.on_topic`);
    the result is a float in [0, 1]."""

    text: str
    goal: str


Effect = Send | Consult | Check | Rewind | OnTopic
Plan = Generator[Effect, Any, None]
MAX_EFFECTS = 256  # a plan that yields more is broken; stop it rather than loop forever


def drive(plan: Plan, handle: Callable[[Effect], Any]) -> int:
    """Run ``plan`` synchronously, answering each effect with ``handle``; returns the count."""
    count = 0
    try:
        effect = next(plan)
        while count < MAX_EFFECTS:
            count += 1
            effect = plan.send(handle(effect))
    except StopIteration:
        return count
    plan.close()
    return count


async def adrive(plan: Plan, handle: Callable[[Effect], Awaitable[Any]]) -> int:
    """Run ``plan`` asynchronously, awaiting ``handle`` for each effect; returns the count."""
    count = 0
    try:
        effect = next(plan)
        while count < MAX_EFFECTS:
            count += 1
            effect = plan.send(await handle(effect))
    except StopIteration:
        return count
    plan.close()
    return count
