"""How the static heads see a text as numbers: WordLlama's token ids, read word by word with
a memory of words seen before (:class:`Tokens`), and the hashed unigram and bigram features
built from them (:data:`FEATURES`, :class:`SparseRows`).

Apart from the encoders (:mod:`bastion.classify._static_encoders`) because this layout is a
contract with the trained artifact: :func:`~bastion.classify._static_heads.load_heads` refuses
heads built for another :class:`HashSpec`, and the training code
(:mod:`bastion.training.static`) featurises with these same definitions.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from itertools import accumulate, chain
from typing import cast

import numpy as np

from bastion.models import wordllama


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
