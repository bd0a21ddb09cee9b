"""The answer side of the ``llm`` tier: the output-format instruction, answer parsing, scores.

The system message is the policy body verbatim followed by an output-format instruction that
asks for one JSON object (:func:`system_prompt`). The answer is read leniently in form (a
``<think>`` block, a code fence or prose around the object are skipped; the last top-level
object wins) and strictly in content: a missing key, an unknown category, a violation without
a category or a confidence out of range raises :class:`~bastion.errors.BackendError`, which the
tier turns into a verdict of kind ``error``.

Score mapping. The model answers ``violation`` (0/1), ``category`` and ``confidence`` (how sure
it is of that decision):

- ``violation: 1``: the named category scores ``confidence``, floored at the category's
  threshold: a policy reasoner's decision is the answer, its confidence only grades it, so a
  hesitant "violation" is still a violation (the raw confidence stays in ``meta``).
- ``violation: 0``: the named category (every category, when none is named) scores
  ``(1 - confidence) * SAFE_SCALE``, capped at half its threshold: the model's residual doubt
  stays visible, but a "no" from the model never turns into a violation.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from bastion.classify._verdict import Span, Verdict, decide
from bastion.errors import BackendError
from bastion.policy import Policy

SAFE_SCALE = 0.2
"""Scale of the score a "no violation" answer leaves on a category (see the module docs)."""

MAX_RATIONALE = 500
_KEYS = ("violation", "category", "rule_ids", "confidence", "rationale")
_FENCE = re.compile(r"```[A-Za-z]*[ \t]*\n?(.*?)```", re.DOTALL)
_THINK = re.compile(r"<think>.*?</think>", re.DOTALL)
_QUOTE = re.compile(r"\"([^\"]{4,})\"|“([^”]{4,})”|'([^']{4,})'")


@dataclass(frozen=True)
class _Answer:
    violation: bool
    category: str | None
    rule_ids: tuple[str, ...]
    confidence: float
    rationale: str


@dataclass(frozen=True)
class _Job:
    index: int  # which text of the batch
    start: int  # window [start, end) of that text
    end: int



# -- prompt -------------------------------------------------------------------------------


@lru_cache(maxsize=64)
def system_prompt(policy: Policy, effort_line: str | None = None) -> str:
    """The system message: policy body verbatim, then the output-format instruction.

    Args:
        policy: the policy whose body leads the message.
        effort_line: e.g. ``"Reasoning: high"``, put first (the gpt-oss convention), or None.
    """
    codes = "; ".join(f'"{c.code}" ({c.name})' for c in policy.categories)
    example = next((r.id for r in policy.rules if r.violates), "CODE-1")
    instruction = (
        "## Output format\n"
        "Answer with ONE JSON object and nothing else, in exactly this shape:\n"
        '{"violation": 0 or 1, "category": "<code>" or null, "rule_ids": ["<rule id>"], '
        '"confidence": <number from 0 to 1>, "rationale": "<one or two sentences>"}\n'
        "- violation: 1 if the content violates this policy, otherwise 0.\n"
        f"- category: the category violated (or the closest one when 0), one of {codes}; "
        "null when none applies.\n"
        f'- rule_ids: the most specific rule ids from the Criteria that apply, e.g. "{example}".\n'
        "- confidence: how sure you are of your decision, from 0 to 1.\n"
        "- rationale: why, quoting the decisive words of the content."
    )
    parts = [effort_line, policy.body.strip(), instruction]
    return "\n\n".join(p for p in parts if p)


# -- response parsing ---------------------------------------------------------------------


def _message(payload: dict[str, Any]) -> tuple[str, str | None]:
    """The answer text and the reasoning (if the server sends it apart) of a completion."""
    try:
        choice = payload["choices"][0]
        message = choice["message"]
    except (KeyError, IndexError, TypeError) as exc:
        raise BackendError("answer has no choices[0].message; is the server "
                           "OpenAI-compatible?") from exc
    if choice.get("finish_reason") == "length":
        raise BackendError("answer was truncated (finish_reason 'length'); raise 'max_tokens' "
                           "or lower 'reasoning_effort'")
    reasoning = message.get("reasoning_content") or message.get("reasoning")
    content = message.get("content")
    if isinstance(content, list):  # content parts
        content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
    if not isinstance(content, str) or not content.strip():
        spent = " (the model spent its budget on reasoning)" if reasoning else ""
        raise BackendError(f"empty answer{spent}; retry, or raise 'max_tokens'")
    return content, reasoning if isinstance(reasoning, str) else None


def _extract_json(content: str) -> dict[str, Any]:
    """The last top-level JSON object in the text, looking inside a code fence if any."""
    text = _THINK.sub("", content)
    fenced = _FENCE.findall(text)
    if fenced:
        text = fenced[-1]
    decoder = json.JSONDecoder()
    found: dict[str, Any] | None = None
    at = text.find("{")
    while at >= 0:
        try:
            value, end = decoder.raw_decode(text, at)
        except ValueError:
            at = text.find("{", at + 1)
            continue
        if isinstance(value, dict):
            found = value
        at = text.find("{", end)
    if found is None:
        raise BackendError(f"answer holds no JSON object: {content[:120]!r}; the model did not "
                           "follow the output format (try json_mode=True)")
    return found


def _read_answer(obj: dict[str, Any], policy: Policy) -> _Answer:
    missing = [key for key in _KEYS if key not in obj]
    if missing:
        raise BackendError(f"answer lacks keys {missing}; the model did not follow the output "
                           "format")
    violation, confidence = obj["violation"], obj["confidence"]
    if violation not in (0, 1):
        raise BackendError(f"answer has violation={violation!r}; expected 0 or 1")
    if isinstance(confidence, bool) or not isinstance(confidence, int | float) or not (
            math.isfinite(confidence) and 0.0 <= confidence <= 1.0):
        raise BackendError(f"answer has confidence={confidence!r}; expected a number in [0, 1]")
    category = _category(obj["category"], policy, violates=bool(violation))
    rule_ids = obj["rule_ids"]
    if isinstance(rule_ids, str):
        rule_ids = [rule_ids]
    if not isinstance(rule_ids, list) or not all(isinstance(r, str) for r in rule_ids):
        raise BackendError(f"answer has rule_ids={rule_ids!r}; expected a list of strings")
    rationale = " ".join(str(obj["rationale"] or "").split())
    if len(rationale) > MAX_RATIONALE:
        rationale = rationale[: MAX_RATIONALE - 1] + "…"
    return _Answer(bool(violation), category, tuple(rule_ids), float(confidence), rationale)


def _category(value: object, policy: Policy, *, violates: bool) -> str | None:
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "null", "none")):
        if violates:
            raise BackendError("answer reports a violation without a category")
        return None
    codes = [c.code for c in policy.categories]
    code = str(value).strip().upper()
    if code not in codes:
        raise BackendError(f"answer names category {value!r}, which is not in policy "
                           f"{policy.id!r} (codes: {codes})")
    return code


# -- answer to verdict --------------------------------------------------------------------


def _to_verdict(answer: _Answer, policy: Policy, text: str, job: _Job, latency: float,
                meta: dict[str, Any]) -> Verdict:
    if answer.violation:
        assert answer.category is not None  # checked by _category
        floor = policy.category(answer.category).threshold
        scores = {answer.category: max(answer.confidence, floor)}
        meta["confidence"] = answer.confidence
    else:
        codes = [answer.category] if answer.category else [c.code for c in policy.categories]
        scores = {code: min((1.0 - answer.confidence) * SAFE_SCALE,
                            policy.category(code).threshold / 2) for code in codes}
    owner = {r.id: r.category for r in policy.rules}
    known = [r for r in answer.rule_ids if r in owner]
    dropped = [r for r in answer.rule_ids if r not in owner]
    if dropped:
        meta["dropped_rule_ids"] = dropped
    if known and not answer.violation:
        meta["cited_rule_ids"] = known
    grouped: dict[str, tuple[str, ...]] = {}
    for rule_id in known:
        grouped[owner[rule_id]] = (*grouped.get(owner[rule_id], ()), rule_id)
    evidence = _quotes(answer, text, job) if answer.violation else ()
    return decide(policy, scores, tier="llm", rule_ids=grouped, evidence=evidence,
                  rationale=answer.rationale or None, latency_ms=latency, meta=meta)


def _quotes(answer: _Answer, text: str, job: _Job) -> tuple[Span, ...]:
    """Spans of the window that the rationale quotes verbatim."""
    spans: list[Span] = []
    for match in _QUOTE.finditer(answer.rationale):
        quote = next(g for g in match.groups() if g)
        at = text.find(quote, job.start, job.end)
        if at >= 0:
            spans.append(Span(at, at + len(quote), answer.category, "quoted by the model"))
    return tuple(spans)


# -- verdicts of whole texts --------------------------------------------------------------


def _collect(texts: Sequence[str], jobs: Sequence[_Job], results: Sequence[Verdict]
             ) -> list[Verdict]:
    """One verdict per text: the worst of its windows, with their latencies summed."""
    per_text: list[list[Verdict]] = [[] for _ in texts]
    for job, verdict in zip(jobs, results, strict=True):
        per_text[job.index].append(verdict)
    return [_worst(found).with_latency(sum(v.latency_ms for v in found)) for found in per_text]


def _blank(policy: Policy) -> Verdict:
    """An empty or blank text cannot violate anything; no request is spent on it."""
    return decide(policy, {}, tier="llm", rationale="The text is empty.")


def _worst(verdicts: Sequence[Verdict]) -> Verdict:
    """A violation anywhere decides; else an error (never safe); else the highest score."""
    for kind in ("violation", "error"):
        hits = [v for v in verdicts if v.kind == kind]
        if hits:
            return max(hits, key=lambda v: v.score)
    return max(verdicts, key=lambda v: v.score)
