"""Verdicts built for a whole batch (``decide_rows``) and amended copies (``amended``) equal
the ones the plain constructors build."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from bastion.classify._verdict import Explanation, Span, amended, decide, decide_rows
from bastion.policy import load_policy, parse_policy

ALLOW_POLICY = """\
---
id: allow-mix
version: "1"
title: A category that only reports
categories:
  - code: BAD
    name: Bad
    action: block
    threshold: 0.5
  - code: NOTE
    name: Noted
    action: allow
    threshold: 0.3
---
# A category that only reports

## Instructions
Decide whether the text is bad, and note what is worth noting.

## Definitions
- **Bad**: harmful to someone.

## Criteria
### Violates
- **BAD-1** Bad things.
- **NOTE-1** Things worth noting.

### Does not violate
- **BAD-S1** Ordinary things.

## Examples
- violates BAD-1: "Something bad."
- violates NOTE-1: "Something worth noting."
- safe BAD-S1: "Something ordinary."
"""


def _explanation(codes: list[str], i: int, violated: list[int]) -> Explanation:
    """A made-up explanation that differs from text to text."""
    rule_ids = {codes[j]: (f"{codes[j]}-{i % 3}",) for j in violated if i % 2}
    evidence = tuple(Span(i, i + 5, codes[j], f"note {i}") for j in violated)
    return rule_ids, evidence, (None if i % 5 == 0 else f"Violates, text {i}.")


@pytest.mark.parametrize("explained", [False, True], ids=["violations-left", "explained"])
@pytest.mark.parametrize("policy", [load_policy("default"), parse_policy(ALLOW_POLICY)],
                         ids=["default", "allow-category"])
def test_batch_verdicts_equal_one_by_one_verdicts(policy: object, explained: bool) -> None:
    rng = np.random.default_rng(7)
    codes = [c.code for c in policy.categories]  # type: ignore[attr-defined]
    rows = (rng.random((2000, len(codes))) ** 5).astype(np.float32)
    rows[:50] = 0.0  # nothing found at all
    rows[50:100, 0] = 1.3  # above 1: clipped, and violating
    rows[100:150, -1] = 0.9  # the last category high: a violation, or only a note if allowed
    rows[150:200] = rows[200:250]  # repeated scores come from the shared results
    asked: list[tuple[int, list[int]]] = []

    def explain(i: int, violated: list[int]) -> Explanation:
        asked.append((i, violated))
        return _explanation(codes, i, violated)

    got = decide_rows(policy, rows, tier="static", latency_ms=0.25,  # type: ignore[arg-type]
                      explain=explain if explained else None)
    safe = violating = 0
    for i, (row, verdict) in enumerate(zip(rows, got, strict=True)):
        want = decide(policy, dict(zip(codes, row.tolist(), strict=True)),  # type: ignore[arg-type]
                      tier="static", latency_ms=0.25)
        if want.kind == "violation":
            violated = [j for j, c in enumerate(want.categories) if c.violated]
            rule_ids, evidence, rationale = _explanation(codes, i, violated)
            want = decide(policy, dict(zip(codes, row.tolist(), strict=True)),  # type: ignore[arg-type]
                          tier="static", latency_ms=0.25, rule_ids=rule_ids, evidence=evidence,
                          rationale=rationale)
            violating += 1
            if not explained:
                assert verdict is None
                continue
            assert (i, violated) in asked
        else:
            safe += 1
        assert verdict == want
        assert verdict is not None
        assert verdict.to_dict() == want.to_dict()
    assert safe > 100
    assert violating > 100
    assert len(asked) == (violating if explained else 0)


def test_batch_verdicts_do_not_share_their_meta() -> None:
    policy = load_policy("default")
    first, second = decide_rows(policy, np.zeros((2, len(policy.categories))), tier="static")
    assert first is not None
    assert second is not None
    first.meta["path"] = ["rules"]
    assert second.meta == {}


def test_amended_equals_replace_and_refuses_unknown_fields() -> None:
    policy = load_policy("default")
    verdict = decide(policy, {"VIO": 0.9}, tier="embedded", latency_ms=1.0, meta={"a": 1})
    copy = amended(verdict, latency_ms=2.5, meta={"b": 2})
    assert copy == dataclasses.replace(verdict, latency_ms=2.5, meta={"b": 2})
    assert copy.meta == {"b": 2}
    assert verdict.meta == {"a": 1}
    assert verdict.latency_ms == 1.0
    with pytest.raises(TypeError, match="laytency"):
        amended(verdict, laytency=3.0)
