"""The default model tier: a fine-tuned contextual encoder that reads meaning, not words.

``EmbeddedClassifier`` (registry name ``embedded``) runs the shipped ONNX model
(:mod:`bastion.classify._onnx`) on every view of a text (:mod:`bastion.classify._variants`:
the text, decoded and normalised forms, sentence windows of long texts) and takes, per
category, the highest score over the views:

- a category whose ``head`` names a shipped head reads that head's calibrated probability;
- a category without one is scored by the policy reader (:mod:`bastion.classify._reader`)
  from its own rules and examples, embedded once per policy hash.

The view that decided is cited as evidence (its span in the original text and its kind, e.g.
"decoded base64"), and the nearest violating rule or example of the category gives the rule id.

Language: the model was fine-tuned on English. A text it does not read (another script, or a
Latin-script text with almost no English words) is not passed as safe on the model's say-so:
the verdict is an ``error`` that says why, marked for escalation, so a cascade with a deep
tier (``llm``) decides it and one without fails closed. A violation the model found in such a
text stands without a deep tier, and is marked for escalation too: its scores on a language it
does not read are no evidence either way. ``unreadable="allow"`` keeps the model's verdict
instead (and says so in ``meta``).

Lifetime: construct once (loads and verifies the model, about a second); ``classify`` is
thread-safe (ONNX Runtime sessions are; the per-policy cache only gains complete entries).

Failure: a missing or altered artifact, or an unknown head, raises
:class:`~bastion.errors.ConfigError`; ONNX Runtime failing at run time yields error verdicts.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Literal

import numpy as np

from bastion.classify._base import Classifier
from bastion.classify._deadline import check_deadline, current_deadline
from bastion.classify._language import (
    SENTENCE_LANGID_WORDS,
    covered,
    foreign_passage,
    identified,
    without_data,
)
from bastion.classify._onnx import ContextualModel, load_model
from bastion.classify._reader import CategoryAnchors, ReaderWeights, anchors_of
from bastion.classify._variants import (
    RUN_ON,
    WINDOW_CHARS,
    View,
    sentence_windows,
    sentences_of,
    views,
)
from bastion.classify._verdict import Span, Verdict, amended, decide, error_verdict
from bastion.errors import ConfigError
from bastion.policy import Category, Policy

_POLICY_CACHE_SIZE = 32
_SOURCE_NOTE = {"window": "in a sentence window (after the window margin)",
                "folded": "after folding look-alike letters",
                "url": "after URL-decoding", "reversed": "read reversed", "rot13": "after rot13",
                "word-order": "with its words read in reverse order", "rot47": "after rot47",
                "interleaved": "without the word sent between its words",
                "alternate": "without the words sent between its words",
                "respelled": "with its misspelt words mended",
                "quoted": "in a block quote read alone",
                "fenced": "in a fenced block or backticks read alone",
                "listed": "with its list items read as one line",
                "unwrapped": "with the quotes, tags or slashes around its words removed",
                "leet": "with its leetspeak letters read back",
                "number-words": "with letters spelt as numbers read back",
                "substituted": "with the words it defines read as their meanings",
                "first-letters": "with words spelt by their first letters read",
                "upside-down": "with its upside-down words turned back",
                "pig-latin": "with its Pig Latin words read back",
                "blanks": "with the letters left out of its words filled in",
                "cued": "with the words it says are in rot13 or base64 decoded",
                "unscrambled": "with the letters of its scrambled words put in order",
                "keyboard": "with the words typed one key to the side read back",
                "concatenated": "with its strings joined as the sum asks",
                "polybius": "with its Polybius-square pairs read as letters",
                "keypad": "with its phone-keypad presses read as letters",
                "vowel-digits": "with digits written for its vowels read back",
                "spaced": "with letter spacing removed", "tags": "in hidden tag characters",
                "selectors": "in bytes hidden in variation selectors",
                "escapes": "after decoding \\u escapes",
                "entities": "after decoding HTML character references",
                "camel": "with camelCase words split"}


@dataclass(frozen=True)
class Plan:
    """How each category of one policy is scored: a head column, or reader anchors (-1)."""

    codes: tuple[str, ...]
    columns: tuple[int, ...]
    anchors: tuple[CategoryAnchors, ...]


class EmbeddedClassifier(Classifier):
    """The fine-tuned contextual model (ONNX, int8) with the policy reader.

    Args:
        artifacts: folder of another model build (default: the one shipped in the package).
        unreadable: ``"escalate"`` (default): a text in a language the model does not read
            gets an error verdict marked for escalation (a violation the model found is kept,
            marked for escalation too); ``"allow"``: keep the model's verdict.
        window_margin: how much higher than the category threshold a sentence window's score
            must be to decide alone (a window reads a sentence out of context).
        pair_chars: sentence pairs of a long text are also read when they fit in this many
            characters (0: sentences alone).
        run_on: word windows inside a run-on sentence: (words per window, words moved each
            time; a step below the length overlaps the windows).
        Defaults of all three: the values chosen for the shipped model on development data
        (its card's ``windows``; ``scripts/train_classifier.py windows``).
    """

    name: ClassVar[str] = "embedded"

    def __init__(self, *, artifacts: str | Path | None = None,
                 unreadable: Literal["escalate", "allow"] = "escalate",
                 window_margin: float | None = None, pair_chars: int | None = None,
                 run_on: tuple[int, int] | None = None) -> None:
        if unreadable not in ("escalate", "allow"):
            raise ConfigError(f"unreadable={unreadable!r} is not an option; use 'escalate' "
                              "or 'allow'")
        self._model: ContextualModel = load_model(str(artifacts) if artifacts else None)
        reader = self._model.card["reader"]
        self._reader = ReaderWeights(np.array(reader["coef"], np.float32), float(reader["bias"]))
        self._unreadable = unreadable
        chosen = self._model.card.get("windows", {})
        if window_margin is None:
            window_margin = float(chosen.get("margin", 0.0))
        if not 0.0 <= window_margin < 1.0:
            raise ConfigError(f"window_margin={window_margin!r} is out of range; use a score "
                              "margin from 0 (windows count like the whole text) to below 1")
        if pair_chars is None:
            pair_chars = int(chosen.get("pair_chars", WINDOW_CHARS))
        if pair_chars < 0:
            raise ConfigError(f"pair_chars={pair_chars!r} is negative; use 0 to read "
                              "sentences alone, or the longest sentence pair to read")
        if run_on is None:
            run_on = (int(chosen.get("run_on_words", RUN_ON[0])),
                      int(chosen.get("run_on_step", RUN_ON[1])))
        if not 0 < run_on[1] <= run_on[0]:
            raise ConfigError(f"run_on={run_on!r} cannot cover a sentence; use (words, step) "
                              "with 0 < step <= words")
        self._window_margin = window_margin
        self._pair_chars = pair_chars
        self._run_on = run_on
        self._plans: dict[str, Plan] = {}

    @property
    def heads(self) -> tuple[str, ...]:
        """Names of the shipped heads a category may name in ``head:``."""
        return self._model.heads

    def plan(self, policy: Policy) -> Plan:
        """The (cached) scoring plan of a policy: head columns and embedded anchors."""
        plan = self._plans.get(policy.hash)
        if plan is None:
            columns = tuple(self._model.index(c.head) if c.head else -1
                            for c in policy.categories)
            per_category = []
            for category in policy.categories:
                items = anchors_of(policy, category.code)
                if not items and category.head is None and not category.rules_only:
                    raise ConfigError(
                        f"category {category.code!r} of policy {policy.id!r} has no 'head:', no "
                        "rules and no examples, so the policy reader has nothing to read; add "
                        f"'- **{category.code}-1** ...' rules under '### Violates' or set "
                        "'head:' to a shipped head")
                per_category.append(items)
            # every category's rules and examples in one call: batched by length over the
            # cores, which a call per category (a dozen small calls) was not
            texts = [a.text for items in per_category for a in items]
            vectors = (self._model.run(texts).embeddings if texts
                       else np.zeros((0, int(self._model.card["dim"])), np.float32))
            anchors, start = [], 0
            for items in per_category:
                anchors.append(CategoryAnchors.build(items, vectors[start:start + len(items)]))
                start += len(items)
            plan = Plan(tuple(c.code for c in policy.categories), columns, tuple(anchors))
            if len(self._plans) >= _POLICY_CACHE_SIZE:
                self._plans.pop(next(iter(self._plans)))
            self._plans[policy.hash] = plan
        return plan

    def _classify(self, texts: Sequence[str], policy: Policy) -> list[Verdict]:
        plan = self.plan(policy)  # built once per policy; not part of a text's latency
        start = time.perf_counter()
        all_views: list[View] = []
        owner: list[int] = []
        deadline = current_deadline()
        for i, text in enumerate(texts):
            if text.strip():
                found = views(text, pair_chars=self._pair_chars, run_on=self._run_on)
                all_views += found
                owner += [i] * len(found)
                # a long text's views take a while (0.4 s for 230,000 characters), and its
                # word pieces as long again: stop before them once nobody waits any more
                check_deadline(deadline)
        scores, embeddings = self._scores(all_views, plan, policy)
        windows = np.array([v.out_of_context for v in all_views], bool)
        scores[windows] = np.maximum(scores[windows] - self._window_margin, 0.0)
        latency = (time.perf_counter() - start) * 1000 / len(texts)
        owners = np.array(owner, np.int64)
        verdicts = []
        for i, text in enumerate(texts):
            rows = np.flatnonzero(owners == i)
            verdicts.append(self._verdict(policy, plan, text, rows, scores, all_views,
                                          embeddings, latency))
        return verdicts

    def view_scores(self, text: str, policy: Policy) -> tuple[np.ndarray, np.ndarray]:
        """Highest score per category of ``policy`` over the whole-text views (the text,
        decoded and folded forms) and over the sentence windows, before any window margin
        (zeros where a text has no window). For choosing the margin on development data."""
        found = views(text, pair_chars=self._pair_chars, run_on=self._run_on)
        scores, _ = self._scores(found, self.plan(policy), policy)
        windows = np.array([v.out_of_context for v in found], bool)
        zero = np.zeros(len(policy.categories), np.float32)
        whole = scores[~windows].max(axis=0) if (~windows).any() else zero
        return whole, scores[windows].max(axis=0) if windows.any() else zero

    def _scores(self, all_views: list[View], plan: Plan, policy: Policy
                ) -> tuple[np.ndarray, np.ndarray | None]:
        """Score of every view for every category, and the views' embeddings."""
        scores = np.zeros((len(all_views), len(plan.codes)), np.float32)
        if not all_views:
            return scores, None
        outputs = self._model.run([v.text for v in all_views])
        probs = self._model.probabilities(outputs.logits)
        for j, column in enumerate(plan.columns):
            if policy.categories[j].rules_only:
                continue  # patterns and keywords alone score it (the rules tier)
            scores[:, j] = (probs[:, column] if column >= 0 else
                            self._reader.score(plan.anchors[j].features(outputs.embeddings)))
        return scores, outputs.embeddings

    def _verdict(self, policy: Policy, plan: Plan, text: str, rows: np.ndarray,
                 scores: np.ndarray, all_views: list[View], embeddings: np.ndarray | None,
                 latency: float) -> Verdict:
        if not len(rows) or embeddings is None:
            return decide(policy, {}, tier=self.name, latency_ms=latency)
        as_sent = covered(text)  # asked once: read_as and _coverage both need it
        decoded = read_as(text, [all_views[int(r)] for r in rows], as_sent[0])
        if decoded is not None:  # the text as sent is letters apart or a cipher: not read
            rows = np.array([r for r in rows if all_views[int(r)].source != "text"], np.int64)
        best = scores[rows].max(axis=0)
        worst = rows[scores[rows].argmax(axis=0)]
        rule_ids: dict[str, tuple[str, ...]] = {}
        evidence: list[Span] = []
        for j, category in enumerate(policy.categories):
            if best[j] < category.threshold or category.action == "allow":
                continue
            view = all_views[int(worst[j])]
            cited = plan.anchors[j].nearest_violating(embeddings[int(worst[j])])
            if cited is not None:
                rule_ids[category.code] = (cited[0].rule_id,)
            note = _note(category, float(best[j]), plan.columns[j] >= 0, view, cited)
            evidence.append(Span(view.start, view.end, category.code, note))
        verdict = decide(policy, dict(zip(plan.codes, best.tolist(), strict=True)),
                         tier=self.name, rule_ids=rule_ids, evidence=tuple(evidence),
                         rationale=("Violates " + "; ".join(e.note for e in evidence) + ".")
                         if evidence else None, latency_ms=latency)
        if decoded is not None:
            verdict = _with_meta(verdict, {"read_as": decoded.source})
        readable, why = _coverage(text, [all_views[int(r)] for r in rows], self._run_on,
                                  as_sent=as_sent)
        if readable:
            return verdict
        if self._unreadable == "allow":
            return _with_meta(verdict, {"language": f"not covered: {why}"})
        if verdict.kind == "violation":
            # The model's scores on a language it does not read mean little either way
            # (benign Welsh small talk read 0.72 harmful): the block stands on its own, but is
            # marked for a deep tier to decide, and says why it may be wrong.
            return _with_meta(amended(verdict, rationale=(
                f"{verdict.rationale} The model does not read this text ({why}; it covers "
                "English): a deep tier (llm) decides it when configured.")),
                {"escalate": "language", "language": f"not covered: {why}"})
        failed = error_verdict(policy, self.name, f"the embedded model does not read this text "
                               f"({why}; it covers English), so it cannot pass it as safe; "
                               "configure a deep tier (llm) to decide such texts, or set "
                               "unreadable='allow'", latency)
        return _with_meta(failed, {"escalate": "language", "model_score": verdict.score})


def _coverage(text: str, text_views: list[View], run_on: tuple[int, int] = RUN_ON, *,
              as_sent: tuple[bool, str] | None = None) -> tuple[bool, str]:
    """Whether the model reads the whole text and each of its sentence windows (a sentence
    in another language inside English prose is not read either).

    ``text_views`` are the text's views (:func:`views`): the first is the text as read, and
    it has windows when it is long. The windows checked are cut again from the text as read
    with its data (addresses, links, ids) blanked: the model's own windows end at any full
    stop, so ``tanvi.rao@example.com`` became the "sentences" ``Tanvi Rao, tanvi.`` and
    ``com Luca Bianchi, luca.``, names that read as no English. ``as_sent``: what
    :func:`covered` says of ``text``, when the caller has asked already."""
    readable, why = as_sent if as_sent is not None else covered(text)
    if not readable and read_as(text, text_views, readable) is None:
        return False, why
    read = text_views[0].text
    windowed = any(view.source == "window" for view in text_views)
    # a short text of one sentence was judged whole; so is one too short to hold a sentence
    # that langid.py is asked about beside another
    short = not windowed and len(read.split()) <= SENTENCE_LANGID_WORDS
    spans = [] if short else sentence_windows(without_data(read), pair_chars=0, run_on=run_on)
    for start, end in spans if windowed or len(spans) > 1 else ():
        for sentence in sentences_of(read[start:end]):
            why = covered(sentence, identify=False)[1] if windowed else identified(sentence)
            if why:
                return False, f"a sentence: {why}"
    if foreign_passage(text):
        return False, "a passage reads as a language other than English"
    return True, ""


#: Readings of a whole text that the views make only when it decodes to English words
#: (``_variants._hidden_language``), and the fold of look-alike letters (``folded``).
_DECODED_WHOLE = frozenset({"reversed", "rot13", "rot47", "word-order", "turned", "caesar",
                            "keyboard", "folded"})


def read_as(text: str, text_views: list[View], readable: bool | None = None) -> View | None:
    """The view that stands for all of ``text`` when the model cannot read it as sent, or
    None: its letters written apart (``spaced``: "h o w  d o  I ..."), or, for a text that
    is not English as sent (:func:`covered`), a reading of all of it reversed, in rot13,
    with its look-alike letters folded, ... (:data:`_DECODED_WHOLE`) that is covered.

    Such a text is scored on that reading, not as sent: the model, reading letters apart
    or a cipher, called them prompt injection and harm (a benign question about banana
    bread, spaced: injection 0.96; each benign twin of the blind set sent spaced, with
    homoglyphs, 0.98 to 1.00 flagged, bench/classifier_quality.py), and a mixed-script
    text was an error for a deep tier though its fold was plain English. A harmful request
    is flagged on the reading either way, and the keyword rules still read the text as
    sent. ``readable``: whether :func:`covered` reads ``text`` as sent, when the caller
    has asked already."""
    whole = [view for view in text_views if view.start == 0 and view.end == len(text)]
    spaced = next((view for view in whole if view.source == "spaced"), None)
    if spaced is not None:
        return spaced
    if readable is None:
        readable = covered(text)[0]
    if readable:
        return None
    return next((view for view in whole if view.source in _DECODED_WHOLE
                 and covered(view.text)[0]), None)


def _with_meta(verdict: Verdict, extra: dict[str, object]) -> Verdict:
    return amended(verdict, meta={**verdict.meta, **extra})


def _note(category: Category, score: float, head: bool, view: View,
          cited: tuple[object, float] | None) -> str:
    source = "head" if head else "policy reader"
    where = _SOURCE_NOTE.get(view.source) or (
        f"in decoded {view.source}" if view.source != "text" else "")
    text = f"{category.name} ({source}): score {score:.2f} >= {category.threshold:.2f}"
    if where:
        text += f" {where}"
    if cited is not None:
        anchor, similarity = cited
        quote = getattr(anchor, "text", "")
        quote = quote if len(quote) <= 80 else quote[:77] + "..."
        text += (f"; nearest is {getattr(anchor, 'rule_id', '?')} ({quote!r}, "
                 f"similarity {similarity:.2f})")
    return text
