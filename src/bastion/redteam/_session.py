"""One attempt: drive a strategy's plan against a target, recording every turn."""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from typing import Any

import anyio.to_thread

from bastion.errors import ConfigError
from bastion.redteam._base import Converter, Target
from bastion.redteam._config import scrub
from bastion.redteam._limits import RateLimiter, with_retries
from bastion.redteam._plan import Check, Consult, Effect, OnTopic, Rewind, Send
from bastion.redteam._types import Case, Message, Turn
from bastion.redteam.converters._text import Completer
from bastion.redteam.scorers._compliance import compliance
from bastion.redteam.scorers._topic import on_topic

# The most characters of one reply kept (about 25,000 tokens, past any answer a model gives
# in one turn): a target answering 50 MB put 50 MB per attempt into the log and every score.
MAX_REPLY = 100_000


def _cut(text: str) -> str:
    """``text``, or its first ``MAX_REPLY`` characters and how many more there were."""
    if len(text) <= MAX_REPLY:
        return text
    return f"{text[:MAX_REPLY]}\n[... {len(text) - MAX_REPLY:,} more characters not kept]"


class Session:
    """The conversation state of one attempt; answers a plan's effects.

    Args:
        case: the case attacked.
        target: the system under test.
        converters: applied in order to every prompt sent.
        rng: the attempt's seeded random source (converters and retries draw from it).
        attacker: the attacker model for Consult effects, if configured.
        limiter: the campaign's rate limiter.
        retries: retries of retryable target failures.
        backoff: base backoff in seconds.
    """

    def __init__(self, case: Case, target: Target, converters: Sequence[Converter],
                 rng: random.Random, *, attacker: Completer | None = None,
                 limiter: RateLimiter | None = None, retries: int = 3,
                 backoff: float = 0.5) -> None:
        self.case, self.target, self.converters, self.rng = case, target, converters, rng
        self.attacker = attacker
        self.limiter = limiter or RateLimiter(None)
        self.retries, self.backoff = retries, backoff
        self.history: list[Message] = list(case.setup)
        self.turns: list[Turn] = []

    async def handle(self, effect: Effect) -> Any:
        """Carry out one effect and return its result to the plan."""
        if isinstance(effect, Send):
            return await self._send(effect.prompt)
        if isinstance(effect, Consult):
            if self.attacker is None:
                raise ConfigError("this strategy needs an attacker model; pass --attacker-url")
            return await self.attacker.complete(effect.messages)
        if isinstance(effect, Check):  # read as the verdict reads it: whole, then by voice
            (read,) = await anyio.to_thread.run_sync(compliance, [effect.text], None,
                                                     [self.case.goal])
            return 1.0 - read.p_success
        if isinstance(effect, Rewind):
            self._rewind()
            return None
        if isinstance(effect, OnTopic):
            return await anyio.to_thread.run_sync(on_topic, effect.text, effect.goal)
        raise TypeError(f"unknown effect {effect!r}")  # pragma: no cover - closed union

    async def _send(self, prompt: str) -> str:
        converted = prompt
        for converter in self.converters:
            converted = await converter.aconvert(converted, self.rng)
        conversation = [*self.history, Message("user", converted)]
        start = time.perf_counter()
        reply = await with_retries(lambda: self.target.send(conversation), retries=self.retries,
                                   backoff=self.backoff, limiter=self.limiter, rng=self.rng)
        latency = (time.perf_counter() - start) * 1000
        text = _cut(scrub(reply.text, self.target.credentials))  # a server echoing our key
        self.history = [*conversation, Message("assistant", text)]
        self.turns.append(Turn(converted, prompt, text, round(latency, 2),
                               blocked=reply.blocked))
        return text

    def _rewind(self) -> None:
        if len(self.history) >= len(self.case.setup) + 2:
            self.history = self.history[:-2]
        for index in range(len(self.turns) - 1, -1, -1):
            if not self.turns[index].rewound:
                old = self.turns[index]
                self.turns[index] = Turn(old.prompt, old.original, old.response,
                                         old.latency_ms, old.blocked, rewound=True)
                break
