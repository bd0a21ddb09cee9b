"""Strategies: how a case becomes a conversation.

Contract (:class:`~bastion.redteam.Strategy`): ``plan(case, rng)`` returns a generator of
effects (:mod:`bastion.redteam._plan`: ``Send``, ``Consult``, ``Check``, ``Rewind``,
``OnTopic``) and never touches the network itself, so one plan runs under the sync and async
drivers and is testable with plain functions. ``multi_turn`` strategies need a target that
can hold a conversation; ``needs_attacker`` ones an attacker model.

Register a new strategy with one line in :mod:`bastion.redteam._builtin` or one entry point
in the ``bastion.redteam.strategies`` group.
"""

from bastion.redteam._base import Strategy
from bastion.redteam.strategies._strategies import (
    AttackerCrescendo,
    Pair,
    ScriptedCrescendo,
    SingleTurn,
    Tap,
)

__all__ = ["AttackerCrescendo", "Pair", "ScriptedCrescendo", "SingleTurn", "Strategy", "Tap"]
