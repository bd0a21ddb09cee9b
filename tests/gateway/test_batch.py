"""Natural batching of checks: concurrent checks share classifier calls, nothing mixes up."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

import pytest

from bastion.classify import Verdict, error_verdict
from bastion.classify._fixed import FixedClassifier
from bastion.gateway._batch import Batcher
from bastion.policy import Policy, load_policy

pytestmark = pytest.mark.anyio


class Recording(FixedClassifier):
    """The fixed tier, slow, recording each batch; a text holding ``BREAK`` fails its batch."""

    def __init__(self) -> None:
        super().__init__(scores={"bomb": {"WPN": 0.9}})
        self.calls: list[list[str]] = []

    async def run(self, texts: list[str], policy: Policy) -> list[Verdict]:
        self.calls.append(list(texts))
        await asyncio.sleep(0.05)
        if any("BREAK" in t for t in texts):
            return [error_verdict(policy, "fixed", "cannot take it") for _ in texts]
        return self._classify(texts, policy)

    def _classify(self, texts: Sequence[str], policy: Policy) -> list[Verdict]:
        return [self._one(t, policy) for t in texts]


async def test_concurrent_checks_share_batches_and_get_their_own_verdicts() -> None:
    policy, model = load_policy("default"), Recording()
    batcher = Batcher(model.run, concurrency=1, max_texts=64, timeout_s=2.0)
    texts = [[f"tea {i}", "a pipe bomb" if i % 3 == 0 else f"cake {i}"] for i in range(12)]
    results = await asyncio.gather(*(batcher.classify(t, policy) for t in texts))
    assert len(model.calls) == 2  # the first alone, the eleven that waited together
    assert len(model.calls[0]) == 2
    for pair, verdicts in zip(texts, results, strict=True):
        assert verdicts is not None
        assert [v.kind for v in verdicts] == ["safe", "violation" if "bomb" in pair[1]
                                             else "safe"]


async def test_a_failing_text_fails_only_its_caller() -> None:
    policy, model = load_policy("default"), Recording()
    batcher = Batcher(model.run, concurrency=1, max_texts=64, timeout_s=2.0)
    first = asyncio.ensure_future(batcher.classify(["warm-up"], policy))
    await asyncio.sleep(0.01)
    bad, good = await asyncio.gather(batcher.classify(["BREAK it"], policy),
                                     batcher.classify(["tea"], policy))
    await first
    assert bad is not None
    assert bad[0].is_error
    assert good is not None
    assert good[0].kind == "safe"


async def test_a_hung_batch_frees_its_slot_at_the_deadline() -> None:
    policy = load_policy("default")

    async def hang(texts: list[str], policy: Policy) -> list[Verdict]:
        if "hang" in texts:
            await asyncio.sleep(30)
        return [error_verdict(policy, "x", "unused") for _ in texts] if not texts else \
            FixedClassifier()._classify(texts, policy)

    batcher = Batcher(hang, concurrency=1, max_texts=64, timeout_s=0.2)
    start = time.monotonic()
    stuck, served = await asyncio.gather(batcher.classify(["hang"], policy),
                                         batcher.classify(["tea"], policy))
    assert stuck is None
    assert served is not None
    assert served[0].kind == "safe"
    assert time.monotonic() - start < 1.0
