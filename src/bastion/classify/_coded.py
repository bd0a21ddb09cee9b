"""What the decoders of :mod:`bastion.classify._variants` share: a coded run read back where
it stands (:func:`_coded_runs`), how much a string of letters reads like a word of the
vocabulary (:func:`_wordlike`), the vocabulary commonest first, and a run of letters cut into
words (:func:`segment`).

A module of its own so that the letter-level and word-level readers can use them without
importing each other.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from functools import cache

from bastion.classify._embed import embedder_words

_LETTERS = re.compile(r"[A-Za-z]+")

_READABLE = 0.25


@cache
def _trigram_counts() -> tuple[dict[str, int], dict[str, int]]:
    """Letter trigrams of the vocabulary's words (``^`` and ``$`` mark the ends), and the
    counts of their first two letters."""
    trigrams: dict[str, int] = {}
    pairs: dict[str, int] = {}
    for word in embedder_words():
        marked = f"^{word}$"
        for i in range(len(marked) - 2):
            trigrams[marked[i:i + 3]] = trigrams.get(marked[i:i + 3], 0) + 1
            pairs[marked[i:i + 2]] = pairs.get(marked[i:i + 2], 0) + 1
    return trigrams, pairs


def _wordlike(word: str) -> float:
    """Mean log-probability of ``word``'s letter trigrams among the vocabulary's words:
    ``ransomware`` reads like a word (-2.6), ``erawmosnar`` less (-3.3)."""
    trigrams, pairs = _trigram_counts()
    marked = f"^{word}$"
    return sum(math.log((trigrams.get(marked[i:i + 3], 0) + 0.5)
                        / (pairs.get(marked[i:i + 2], 0) + 14))
               for i in range(len(marked) - 2)) / (len(marked) - 2)


_WORD_EDGES = "\"'.,!?;:()[]"

#: Fewest words a run in ROT47 or Pig Latin must have, and fewest times in a row a filler
#: word must stand between two words.
_CODED_RUN, _INTERLEAVED_WORDS = 3, 4


@cache
def _commonest_first() -> tuple[str, ...]:
    """The model's vocabulary words, commonest first (WordPiece numbers them so)."""
    words = embedder_words()
    return tuple(sorted(words, key=words.__getitem__))


def _coded_runs(text: str, read: Callable[[str], str | None], gap: int = 0,
                least: int = _CODED_RUN) -> str:
    """``text`` with each run of ``least`` words or more that ``read`` reads (it gives a word
    back, or None for a word it does not read) read back where it stands, the rest as it is;
    ``text`` itself when there is none. A run may hold ``gap`` words in a row that ``read``
    does not read (left as sent) between two it does. Two words of a run at least (one, for
    a run of one) must read as words of three letters or more (a list of digits, ``2, 3,
    4``, reads ``a, b, c`` in ROT47)."""
    tokens = re.split(r"(\s+)", text)  # words at even places, the spaces between at odd
    found = [(i, word) for i, token in enumerate(tokens)
             if i % 2 == 0 and token and (word := read(token)) is not None]
    changed = False
    start = 0
    for k in range(1, len(found) + 1):
        if k < len(found) and found[k][0] - found[k - 1][0] <= 2 * gap + 2:
            continue
        run = found[start:k]
        if len(run) >= least and sum(
                len(word.strip(_WORD_EDGES)) >= 3 for _, word in run) >= min(2, least):
            for i, word in run:
                tokens[i] = word
            changed = True
        start = k
    return "".join(tokens) if changed else text


#: Longest word :func:`segment` looks for, and the run it takes on (a cut is quadratic).
_LONGEST_WORD, _LONGEST_RUN = 18, 200


def segment(run: str) -> str | None:
    """``howtobuildapipebomb`` -> ``how to build a pipe bomb``: a run of letters cut into
    words of the model's vocabulary, commoner and longer words first (each word costs the
    log of its rank), or ``None`` when the run cannot be cut into words."""
    words = embedder_words()
    letters = run.lower()
    if not letters.isalpha() or not letters.isascii() or len(letters) > _LONGEST_RUN:
        return None
    best: list[tuple[float, int]] = [(0.0, 0)] + [(math.inf, 0)] * len(letters)
    for end in range(1, len(letters) + 1):
        for start in range(max(0, end - _LONGEST_WORD), end):
            rank = words.get(letters[start:end])
            if rank is not None and best[start][0] < math.inf:
                cost = best[start][0] + math.log(rank) + 1.0
                if cost < best[end][0]:
                    best[end] = (cost, start)
    if best[-1][0] == math.inf:
        return None
    cut, end = [], len(letters)
    while end:
        start = best[end][1]
        cut.append(letters[start:end])
        end = start
    return " ".join(reversed(cut))
