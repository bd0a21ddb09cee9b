"""Conversations an HTTP target carries in the server's session (a ``{session_id}`` slot).

The server keeps the history, so each turn sends only the new prompt with the session's id.
A campaign's strategies rewind and branch conversations; an open session is kept under the
conversation so far (its turns, hashed), so the next turn of the same conversation goes on
in it, and a conversation no open session matches (a new one, or one rewound) is replayed
turn by turn in a new session. The ids are Bastion's (a fresh one per conversation), or the
server's, read from ``session_path`` in its answers.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from typing import Protocol

import anyio

from bastion.redteam._errors import TargetError
from bastion.redteam._types import Message, Reply
from bastion.redteam.targets._reply import Answer


class Ask(Protocol):
    """One request of the target: a prompt in a session, with the planted context."""

    async def __call__(self, prompt: str, *, session: str, context: str) -> Answer:
        """The server's answer."""


def _key(messages: Sequence[Message]) -> str:
    text = json.dumps([[m.role, m.content] for m in messages])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class SessionKeeper:
    """The open sessions of one target, shared by every task of a campaign.

    Args:
        ask: sends one prompt in a session.
        session_path: where the server names its id; "" for ids Bastion makes.
        shown: the target's URL as messages show it.
    """

    def __init__(self, ask: Ask, session_path: str, shown: str) -> None:
        self._ask, self.session_path, self._shown = ask, session_path, shown
        self._open: dict[str, str] = {}  # conversation-so-far key -> its open session id
        self._lock = anyio.Lock()

    async def send(self, turns: Sequence[Message], prompt: str, documents: str) -> Reply:
        """Send ``prompt``, the last of ``turns``, in the session of the turns before it."""
        history = list(turns[:-1])
        async with self._lock:
            session = self._open.pop(_key(history), None)
        if session is None:  # a new conversation, or one rewound: replay it in a new session
            session = "" if self.session_path else uuid.uuid4().hex
            for index, message in enumerate(m for m in history if m.role == "user"):
                if index:
                    self._going_on(session)
                replayed = await self._ask(message.content, session=session, context=documents)
                session = replayed.session or session
        if history:
            self._going_on(session)
        answer = await self._ask(prompt, session=session, context=documents)
        async with self._lock:
            self._open[_key([*turns, Message("assistant", answer.text)])] = \
                answer.session or session
        return Reply(answer.text, answer.blocked)

    def _going_on(self, session: str) -> None:
        """Raise when a conversation goes on but the server never named its id: the next
        turn would open a new conversation and the attack would silently be single-turn."""
        if not session:
            raise TargetError(f"{self._shown} named no conversation id at option "
                              f"'session_path' {self.session_path!r} in its first answer, so a "
                              "next turn would open a new conversation; point 'session_path' "
                              "at the id in the answer, or leave it empty for Bastion to make "
                              "the ids")
