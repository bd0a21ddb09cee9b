"""Test doubles shipped with Bastion: a scripted OpenAI-compatible model server.

Use them in tests and demos where a real model cannot run::

    from bastion.testing import Reply, ScriptedChatModel, json_answer, serve_on_loopback

    model = ScriptedChatModel({"kill": Reply(json_answer(True, "VIO", ("VIO-1",)))})
    with serve_on_loopback(model) as base_url:
        ...  # point any OpenAI-compatible client (or the ``llm`` tier) at base_url

``python -m bastion.testing --port 8400`` serves the fake heuristic for demos.

:class:`ScriptedUpstream` (with :func:`upstream_app` and :func:`serve_app`) plays the model a
guardrail gateway protects: every OpenAI route, exact stream chunking, slow, broken and
malformed streams, and a log of every request it received.

:func:`wait_until` polls for what happens in the background (audit batches, incidents, a
server starting) and fails with a message naming what it waited for.
"""

from bastion.testing._app import create_app
from bastion.testing._script import (
    Mode,
    Outcome,
    Reply,
    ScriptedChatModel,
    Seen,
    fake_answer,
    json_answer,
)
from bastion.testing._server import serve_on_loopback
from bastion.testing._upstream import ScriptedUpstream, Turn, serve_app, upstream_app
from bastion.testing._wait import wait_until

__all__ = [
    "Mode",
    "Outcome",
    "Reply",
    "ScriptedChatModel",
    "ScriptedUpstream",
    "Seen",
    "Turn",
    "create_app",
    "fake_answer",
    "json_answer",
    "serve_app",
    "serve_on_loopback",
    "upstream_app",
    "wait_until",
]
