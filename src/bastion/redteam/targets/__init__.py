"""Targets: the system under test; a conversation in, one reply out.

Contract (:class:`~bastion.redteam.Target`): used as ``async with target:``; ``send`` is
called from many tasks at once; failures raise :class:`~bastion.redteam.TargetError`
(``retryable`` for timeouts, 429 and 5xx); a guardrail block is ``Reply(blocked=True)``, not
a failure. ``multi_turn`` says whether it can carry a conversation (single-message targets
refuse multi-turn strategies up front); ``secrets`` are what it planted and must not leak.

Register a new target with one line in :mod:`bastion.redteam._builtin` or one entry point in
the ``bastion.redteam.targets`` group; its constructor's keyword options are what ``-T``
sets and ``bastion redteam list targets`` shows.
"""

from bastion.redteam._base import Target
from bastion.redteam.targets._callable import CallableTarget
from bastion.redteam.targets._http import HttpTarget
from bastion.redteam.targets._openai import GatewayTarget, OpenAITarget
from bastion.redteam.targets._template import json_path
from bastion.redteam.targets._vulnerable import VulnerableTarget

__all__ = ["CallableTarget", "GatewayTarget", "HttpTarget", "OpenAITarget", "Target",
           "VulnerableTarget", "json_path"]
