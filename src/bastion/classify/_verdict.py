"""Verdicts: what every classifier tier returns, one per input text."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields, replace
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

from bastion.policy import ACTION_RANK, Action, Policy, PolicyRef

if TYPE_CHECKING:  # numpy is imported where batches are decided, not by `bastion --help`
    import numpy as np

Kind = Literal["safe", "violation", "error"]
_T = TypeVar("_T")


@dataclass(frozen=True)
class Span:
    """Evidence: a character range ``[start, end)`` of the original input text."""

    start: int
    end: int
    category: str | None = None
    note: str = ""


@dataclass(frozen=True)
class CategoryResult:
    """The score and decision for one policy category.

    Attributes:
        score: calibrated probability in [0, 1] that the text violates this category.
        violated: ``score >= threshold``.
    """

    code: str
    score: float
    threshold: float
    violated: bool
    action: Action
    rule_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Verdict:
    """The outcome of classifying one text against one policy.

    Attributes:
        kind: ``safe``, ``violation``, or ``error`` (the classifier could not decide; an error
            is never safe, and its action is ``block`` so callers fail closed by default).
        action: the strongest action among violated categories (``allow`` when safe).
        score: the highest category score (0.0 for errors).
        categories: one result per policy category, in policy order.
        rule_ids: the rule ids hit, most specific first.
        rationale: one or two sentences on why.
        evidence: spans of the input that drove the decision.
        tier: the tier that decided (``rules``, ``embedded``, ``llm`` ...).
        latency_ms: time spent deciding this text (batch time shared out evenly).
        policy: id, version and hash of the policy used.
        error: what went wrong, for error verdicts.
    """

    kind: Kind
    action: Action
    score: float
    categories: tuple[CategoryResult, ...]
    rule_ids: tuple[str, ...]
    rationale: str
    evidence: tuple[Span, ...]
    tier: str
    latency_ms: float
    policy: PolicyRef
    error: str | None = None
    meta: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def is_error(self) -> bool:
        """True when the classifier failed to decide."""
        return self.kind == "error"

    @property
    def violated(self) -> tuple[CategoryResult, ...]:
        """Categories whose score reached their threshold."""
        return tuple(c for c in self.categories if c.violated)

    def with_latency(self, latency_ms: float) -> Verdict:
        """A copy with the latency replaced."""
        return replace(self, latency_ms=latency_ms)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        data = asdict(self)
        data["policy"] = asdict(self.policy)
        if not data["meta"]:
            del data["meta"]
        return data


def decide(
    policy: Policy,
    scores: dict[str, float],
    *,
    tier: str,
    rule_ids: dict[str, tuple[str, ...]] | None = None,
    evidence: tuple[Span, ...] = (),
    rationale: str | None = None,
    latency_ms: float = 0.0,
    meta: dict[str, Any] | None = None,
) -> Verdict:
    """Build a verdict from per-category scores, applying each category's threshold.

    Categories missing from ``scores`` score 0.0. ``allow`` categories are scored and reported
    but never make the verdict a violation.
    """
    if not any(scores.values()):
        return _nothing_found(policy, tier, evidence, rationale, latency_ms, meta)
    rule_ids = rule_ids or {}
    shared = _shared_results(policy)
    results: list[CategoryResult] = []
    hit: list[CategoryResult] = []
    for j, category in enumerate(policy.categories):
        score = min(1.0, max(0.0, float(scores.get(category.code, 0.0))))
        if score >= category.threshold and category.action != "allow":
            hit.append(_violated(category.code, round(score, 4), category.threshold,
                                 category.action, rule_ids.get(category.code, ())))
            results.append(hit[-1])
        else:
            results.append(shared.result(j, round(score, 4)))
    return _assembled(policy, results, hit, evidence, rationale, tier, latency_ms, meta)


def _violated(
    code: str, score: float, threshold: float, action: Action, rule_ids: tuple[str, ...]
) -> CategoryResult:
    return _built(CategoryResult, {"code": code, "score": score, "threshold": threshold,
                                   "violated": True, "action": action, "rule_ids": rule_ids})


def _assembled(
    policy: Policy, results: list[CategoryResult], hit: list[CategoryResult],
    evidence: tuple[Span, ...], rationale: str | None, tier: str, latency_ms: float,
    meta: dict[str, Any] | None,
) -> Verdict:
    """The verdict of scored ``results`` (one per category, in policy order), ``hit`` being
    the violated ones among them, in policy order (sorted here, highest score first)."""
    hit.sort(key=lambda r: -r.score)
    action: Action = "allow"
    for result in hit:
        if ACTION_RANK[result.action] > ACTION_RANK[action]:
            action = result.action
    ids = tuple(rid for r in hit for rid in r.rule_ids)
    if rationale is None:
        rationale = _default_rationale(policy, hit, results)
    hit_codes = {r.code for r in hit}
    return _built(Verdict, {
        "kind": "violation" if hit else "safe", "action": action,
        "score": max((r.score for r in results), default=0.0), "categories": tuple(results),
        "rule_ids": ids, "rationale": rationale,
        "evidence": tuple(e for e in evidence if not hit or e.category in hit_codes),
        "tier": tier, "latency_ms": latency_ms, "policy": policy.ref, "error": None,
        "meta": meta or {},
    })


def amended(verdict: Verdict, **changes: Any) -> Verdict:
    """``dataclasses.replace`` for a verdict without re-running ``__init__``: the cascade
    amends every verdict it passes on, and ``Verdict.__init__`` validates nothing, so copying
    the fields gives the object ``replace`` would build, several times faster."""
    unknown = changes.keys() - _VERDICT_FIELDS
    if unknown:
        raise TypeError(f"Verdict has no field(s) {sorted(unknown)}")
    return _built(Verdict, {**verdict.__dict__, **changes})


def _built(cls: type[_T], values: dict[str, Any]) -> _T:
    """An instance of the frozen dataclass ``cls`` holding ``values`` (every field), without
    running its ``__init__``: on the hot paths below, the frozen ``__init__`` (one
    ``object.__setattr__`` per field) cost more than the work around it. Only for classes
    whose ``__init__`` checks nothing."""
    instance = object.__new__(cls)
    instance.__dict__.update(values)
    return instance


_VERDICT_FIELDS = frozenset(f.name for f in fields(Verdict))
#: How many distinct scores per category :func:`decide_rows` keeps a shared result for.
_INTERNED_SCORES = 4096


@dataclass(frozen=True)
class _Shared:
    """A policy's not-violated category results, one shared object per category and score
    (most texts score the same few values), so a verdict need not build its own."""

    codes: tuple[str, ...]
    thresholds: tuple[float, ...]
    actions: tuple[Action, ...]
    interned: tuple[dict[float, CategoryResult], ...]

    def result(self, j: int, score: float) -> CategoryResult:
        """The (shared) result of category ``j`` scoring ``score`` (rounded), not violated."""
        seen = self.interned[j]
        result = seen.get(score)
        if result is None:  # most categories of a batch of new texts come here
            result = _built(CategoryResult, {
                "code": self.codes[j], "score": score, "threshold": self.thresholds[j],
                "violated": False, "action": self.actions[j], "rule_ids": ()})
            if len(seen) < _INTERNED_SCORES:
                seen[score] = result
        return result


@lru_cache(maxsize=64)
def _shared_results(policy: Policy) -> _Shared:
    return _Shared(
        tuple(c.code for c in policy.categories),
        tuple(float(c.threshold) for c in policy.categories),
        tuple(c.action for c in policy.categories),
        tuple({} for _ in policy.categories),
    )


@dataclass(frozen=True)
class _Board:
    """What :func:`decide_rows` needs of a policy, computed once per policy."""

    shared: _Shared
    thresholds: np.ndarray
    blocking: np.ndarray  # the category's action can make a violation (not ``allow``)


@lru_cache(maxsize=64)
def _board(policy: Policy) -> _Board:
    import numpy as np  # noqa: PLC0415 - see the TYPE_CHECKING import

    return _Board(
        _shared_results(policy),
        np.array([c.threshold for c in policy.categories], np.float64),
        np.array([c.action != "allow" for c in policy.categories], bool),
    )


#: Why a text violates: rule ids per category code, evidence and rationale, as
#: :func:`decide` takes them.
Explanation = tuple[dict[str, tuple[str, ...]], tuple[Span, ...], str | None]


def decide_rows(
    policy: Policy, scores: np.ndarray, *, tier: str, latency_ms: float = 0.0,
    explain: Callable[[int, list[int]], Explanation] | None = None,
) -> list[Verdict | None]:
    """The verdicts of a batch, ``scores[i, j]`` being text ``i``'s score for category ``j``
    (policy order): the verdicts :func:`decide` gives, built for a whole batch at once (the
    threshold test in numpy, one shared result per category and score). The bulk of texts
    are safe, and building each one's results one by one in Python cost more than the model.

    A violating text needs its evidence and citations: ``explain(i, violated)`` gives them
    (``violated``: the indices of the categories text ``i`` violates, in policy order), or,
    without ``explain``, its verdict is ``None`` for the caller to build with :func:`decide`.
    """
    import numpy as np  # noqa: PLC0415 - see the TYPE_CHECKING import

    board = _board(policy)
    shared = board.shared
    if not shared.codes:
        return [None] * len(scores)
    raw = np.asarray(scores, np.float64)
    clipped = np.clip(raw, 0.0, 1.0)
    over = (clipped >= board.thresholds) & board.blocking
    violating: list[bool] = over.any(axis=1).tolist()
    rounded = np.round(clipped, 4)
    empty: list[bool] = np.logical_not(raw.any(axis=1)).tolist()
    top: list[int] = rounded.argmax(axis=1).tolist()
    out: list[Verdict | None] = []
    template = _nothing_found(policy, tier, (), None, latency_ms, None).__dict__
    for i, row in enumerate(rounded.tolist()):
        if violating[i]:
            out.append(None if explain is None else _row_violation(
                policy, shared, row, np.flatnonzero(over[i]).tolist(), explain, i, tier,
                latency_ms))
            continue
        if empty[i]:
            out.append(_built(Verdict, {**template, "meta": {}}))
            continue
        categories = tuple(map(dict.get, shared.interned, row))
        if not all(categories):  # a score not seen before for some category
            categories = tuple(shared.result(k, score) for k, score in enumerate(row))
        j = top[i]
        out.append(_built(Verdict, {
            **template, "meta": {}, "score": row[j], "categories": categories,
            "rationale": _below(shared.codes[j], row[j], shared.thresholds[j])}))
    return out


def _row_violation(
    policy: Policy, shared: _Shared, row: list[float], violated: list[int],
    explain: Callable[[int, list[int]], Explanation], i: int, tier: str, latency_ms: float,
) -> Verdict:
    """:func:`decide`'s verdict for a violating row of :func:`decide_rows`."""
    rule_ids, evidence, rationale = explain(i, violated)
    results = list(map(dict.get, shared.interned, row))
    hit = []
    for j in violated:
        code = shared.codes[j]
        hit.append(_violated(code, row[j], shared.thresholds[j], shared.actions[j],
                             rule_ids.get(code, ())))
        results[j] = hit[-1]
    for j, result in enumerate(results):
        if result is None:  # a score not seen before (and not violated: those are set)
            results[j] = shared.result(j, row[j])
    return _assembled(policy, cast("list[CategoryResult]", results), hit, evidence, rationale,
                      tier, latency_ms, None)


@lru_cache(maxsize=64)
def _zero(policy: Policy) -> tuple[CategoryResult, ...]:
    return tuple(CategoryResult(c.code, 0.0, c.threshold, False, c.action)
                 for c in policy.categories)


def _nothing_found(
    policy: Policy, tier: str, evidence: tuple[Span, ...], rationale: str | None,
    latency_ms: float, meta: dict[str, Any] | None,
) -> Verdict:
    """The common case, kept cheap: every category scored zero."""
    del evidence  # evidence only supports a violation
    return _built(Verdict, {
        "kind": "safe", "action": "allow", "score": 0.0, "categories": _zero(policy),
        "rule_ids": (), "evidence": (), "tier": tier, "latency_ms": latency_ms,
        "rationale": rationale or "No category reached its threshold (all scores 0.00).",
        "policy": policy.ref, "error": None, "meta": meta or {},
    })


def _default_rationale(
    policy: Policy, hit: list[CategoryResult], results: list[CategoryResult]
) -> str:
    if not hit:
        top = max(results, key=lambda r: r.score, default=None)
        if top is None:
            return "No category applies."
        return _below(top.code, top.score, top.threshold)
    parts = []
    for result in hit:
        name = policy.category(result.code).name
        rules = f" (rule {', '.join(result.rule_ids)})" if result.rule_ids else ""
        parts.append(f"{name}{rules}: score {result.score:.2f} >= {result.threshold:.2f}")
    return "Violates " + "; ".join(parts) + "."


def _below(code: str, score: float, threshold: float) -> str:
    """The rationale of a safe verdict whose highest category scored ``score``."""
    return (f"No category reached its threshold (highest: {code} {score:.2f} < "
            f"{threshold:.2f}).")


def error_verdict(policy: Policy, tier: str, message: str, latency_ms: float = 0.0) -> Verdict:
    """A verdict for a text the tier could not classify. Errors block (fail closed)."""
    return Verdict(
        kind="error", action="block", score=0.0,
        categories=tuple(
            CategoryResult(c.code, 0.0, c.threshold, False, c.action) for c in policy.categories
        ),
        rule_ids=(), rationale=f"Classifier error: {message}", evidence=(), tier=tier,
        latency_ms=latency_ms, policy=policy.ref, error=message,
    )
