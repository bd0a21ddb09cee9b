"""The ``cascade`` tier: fast tiers decide the clear cases, a deeper tier the uncertain band.

Order of work for a batch:

1. ``rules`` on every text; a rule that blocks decides (rules are high precision). A rule
   that redacts or flags does not: the model still reads the text, and the stronger action
   wins.
2. The model tier (``embedded`` by default) on the texts the rules did not decide.
3. If a ``deep`` tier is configured and the policy has an ``escalate`` band, texts whose
   highest category score lies in ``[low, high)`` go to the deep tier, whose verdict wins
   (an error from the deep tier stays an error: failure is never safe).

Verdicts are cached by (sha256 of the text, policy hash), so a repeated text costs a lookup.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from bastion.classify._base import Classifier
from bastion.classify._recent import Recent
from bastion.classify._registry import create
from bastion.classify._verdict import Verdict, amended
from bastion.policy import ACTION_RANK, Policy


class VerdictCache(Recent[tuple[str, str], Verdict]):
    """A thread-safe LRU cache of verdicts keyed by content hash and policy hash."""

    @staticmethod
    def key(text: str, policy: Policy) -> tuple[str, str]:
        """The cache key of a text under a policy."""
        return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest(), policy.hash

    def put_many(self, pairs: Sequence[tuple[tuple[str, str], Verdict]]) -> None:
        """Store verdicts (errors are never cached: the next call may succeed)."""
        super().put_many([(key, verdict) for key, verdict in pairs if not verdict.is_error])


class CascadeClassifier(Classifier):
    """Rules, then a model tier, then (optionally) a deep tier for the uncertain band.

    Args:
        model: registry name of the model tier run on texts the rules did not decide, or
            ``None`` to run rules alone.
        model_options: constructor options of the model tier.
        deep: registry name of the deep tier for the uncertain band (``llm``, ``minilm``), or
            ``None``.
        deep_options: constructor options of the deep tier.
        cache_size: how many verdicts to keep (0 disables the cache).
    """

    name = "cascade"

    def __init__(
        self,
        model: str | None = "embedded",
        model_options: dict[str, Any] | None = None,
        deep: str | None = None,
        deep_options: dict[str, Any] | None = None,
        cache_size: int = 10_000,
    ) -> None:
        self.rules = create("rules")
        self.model = create(model, **(model_options or {})) if model else None
        self.deep = create(deep, **(deep_options or {})) if deep else None
        self.cache = VerdictCache(cache_size)

    def _classify(self, texts: Sequence[str], policy: Policy) -> list[Verdict]:
        keys = [VerdictCache.key(t, policy) for t in texts]
        out = self.cache.get_many(keys)
        todo = [i for i, v in enumerate(out) if v is None]
        if todo:
            fast = self._fast([texts[i] for i in todo], policy)
            escalate = self._uncertain(fast, policy)
            if escalate and self.deep is not None:
                deep = self.deep.classify([texts[todo[j]] for j in escalate], policy)
                for j, verdict in zip(escalate, deep, strict=True):
                    fast[j] = _merge_meta(verdict, fast[j], escalated=True)
            for i, verdict in zip(todo, fast, strict=True):
                out[i] = verdict
            self.cache.put_many([(keys[i], verdict) for i, verdict in zip(todo, fast, strict=True)])
        return [v for v in out if v is not None]

    async def aclassify(self, texts: Sequence[str], policy: Policy) -> list[Verdict]:
        """Async form: fast tiers in a worker thread, the deep tier with its own async I/O."""
        if self.deep is None:
            return await super().aclassify(texts, policy)
        saved, self.deep = self.deep, None
        try:
            fast = await super().aclassify(texts, policy)
        finally:
            self.deep = saved
        escalate = self._uncertain(fast, policy)
        if escalate:
            deep = await saved.aclassify([texts[j] for j in escalate], policy)
            for j, verdict in zip(escalate, deep, strict=True):
                fast[j] = _merge_meta(verdict, fast[j], escalated=True)
                self.cache.put(VerdictCache.key(texts[j], policy), fast[j])
        return fast

    def _fast(self, texts: Sequence[str], policy: Policy) -> list[Verdict]:
        verdicts = self.rules.classify(texts, policy)
        if self.model is None:
            return verdicts
        # A rule decides only when it blocks: a rule that redacts or flags (an e-mail address,
        # a keyword) must not spare the rest of the text from the model, or adding an address
        # to a harmful answer turned its block into a redaction.
        undecided = [i for i, v in enumerate(verdicts)
                     if v.kind != "violation" or v.action != "block"]
        if undecided:
            model = self.model.classify([texts[i] for i in undecided], policy)
            for i, verdict in zip(undecided, model, strict=True):
                rules = verdicts[i]
                if rules.kind == "violation" and not verdict.is_error \
                        and ACTION_RANK[verdict.action] <= ACTION_RANK[rules.action]:
                    continue  # the rule's redact or flag stands; a model error still fails
                    # closed, as it does for a text without the address
                verdicts[i] = _merge_meta(verdict, rules, escalated=False)
        return verdicts

    def _uncertain(self, verdicts: Sequence[Verdict], policy: Policy) -> list[int]:
        band = policy.escalate
        if self.deep is None:
            return []
        return [
            i for i, v in enumerate(verdicts)
            if v.tier != "rules" and (v.meta.get("escalate") or (
                band is not None and not v.is_error and band.low <= v.score < band.high))
        ]

    def close(self) -> None:
        """Close the tiers this cascade owns."""
        for tier in (self.rules, self.model, self.deep):
            if tier is not None:
                tier.close()


def _merge_meta(verdict: Verdict, earlier: Verdict, *, escalated: bool) -> Verdict:
    meta = {**earlier.meta, **verdict.meta}
    meta["path"] = [*earlier.meta.get("path", [earlier.tier]), verdict.tier]
    if escalated:
        meta["escalated_from"] = {"tier": earlier.tier, "score": earlier.score}
    return amended(verdict, meta=meta, latency_ms=verdict.latency_ms + earlier.latency_ms)
