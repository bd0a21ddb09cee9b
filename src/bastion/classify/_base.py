"""The classifier contract every tier implements."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import ClassVar

import anyio.to_thread

from bastion.classify._normalize import LONE_SURROGATE
from bastion.classify._verdict import Verdict, error_verdict
from bastion.errors import RuntimeFailure
from bastion.policy import Policy


def unreadable_texts(texts: Sequence[str]) -> dict[int, str]:
    """Why each text that is not Unicode text cannot be encoded, by position in ``texts``: a
    lone surrogate (half a UTF-16 pair, which a JSON ``\\ud800`` escape can carry). The
    built-in tiers read around one (see :mod:`bastion.classify._normalize`); a tier whose
    backend must encode the text as UTF-8 cannot."""
    found = {}
    for index, text in enumerate(texts):
        if text.isascii():
            continue
        match = LONE_SURROGATE.search(text)
        if match is not None:
            found[index] = (f"the text holds a lone surrogate (U+{ord(match.group()):04X} at "
                            f"character {match.start()}), which is not Unicode text and "
                            "cannot be read; send valid UTF-8 (a JSON \\ud800-\\udfff escape "
                            "must be one half of a pair)")
    return found


class Classifier(ABC):
    """A classifier tier: texts and a policy in, one verdict per text out.

    Lifetime: create once and reuse; construction may load model weights (seconds), calls are
    cheap. Instances are safe to share between threads unless ``thread_safe`` is False.

    Concurrency: ``classify`` is synchronous and batch-first; ``aclassify`` runs it in a worker
    thread unless a tier overrides it with real async I/O (the LLM tier does).

    Failure: ``classify`` never raises for runtime failures. A backend that crashes, times out
    or answers garbage yields verdicts of kind ``error`` for the affected texts (never
    ``safe``). Caller mistakes (a bad policy, bad settings) raise
    :class:`~bastion.errors.UserError`.

    Capabilities are class attributes: ``name`` (registry name), ``needs_network``,
    ``thread_safe``.
    """

    name: ClassVar[str] = "base"
    needs_network: ClassVar[bool] = False
    thread_safe: ClassVar[bool] = True

    @abstractmethod
    def _classify(self, texts: Sequence[str], policy: Policy) -> list[Verdict]:
        """Classify a batch; may raise RuntimeFailure, which ``classify`` turns into errors."""

    def classify(self, texts: Sequence[str], policy: Policy) -> list[Verdict]:
        """Classify a batch of texts; returns one verdict per text, in order.

        A tier that cannot encode a text that is not Unicode text (see
        :func:`unreadable_texts`) gives that text an error verdict saying so (an error
        blocks), and the rest of the batch is still classified.
        """
        if not texts:
            return []
        start = time.perf_counter()
        try:
            verdicts = self._classify(texts, policy)
        except RuntimeFailure as exc:
            elapsed = (time.perf_counter() - start) * 1000 / len(texts)
            return [error_verdict(policy, self.name, str(exc), elapsed) for _ in texts]
        except UnicodeEncodeError:
            unreadable = unreadable_texts(texts)
            if not unreadable:
                raise
            readable = iter(self.classify([t for i, t in enumerate(texts)
                                           if i not in unreadable], policy))
            return [error_verdict(policy, self.name, unreadable[i]) if i in unreadable
                    else next(readable) for i in range(len(texts))]
        if len(verdicts) != len(texts):
            message = f"tier {self.name!r} returned {len(verdicts)} verdicts for {len(texts)} texts"
            return [error_verdict(policy, self.name, message) for _ in texts]
        return verdicts

    async def aclassify(self, texts: Sequence[str], policy: Policy) -> list[Verdict]:
        """Async form of :meth:`classify`."""
        return await anyio.to_thread.run_sync(self.classify, texts, policy)

    def close(self) -> None:  # noqa: B027 - optional hook, most tiers hold nothing to release
        """Release resources (connections, threads). Safe to call twice."""
