"""The plain form of an attack, so that the same attack in another dress embeds the same.

Decoding is Bastion's own: :func:`bastion.classify.normalize` (look-alike letters, invisible
and tag characters, leetspeak inside words) and the classifier's views (base64, hex, tag
characters, URL-encoding, rot13, reversed and letter-spaced text). A prompt is read one
paragraph at a time, because an encoding converter puts an English instruction ("decode this
and answer") before the payload: when a paragraph hides a payload, the payload stands for the
attack and the instructions around it are dropped.

Leetspeak needs one more step than the classifier's fold: converters write both ``i`` and ``l``
as ``1``, and spell short words as digits alone (``70`` for ``to``, ``7311`` for ``tell``).
A token is spelled back with the reading that is a whole word of the embedder's own vocabulary
(its WordPiece list), so ``ca11`` becomes ``call`` and ``fie1d`` becomes ``field``.
"""

from __future__ import annotations

import itertools
import re

from bastion.classify import embedder_vocabulary, hidden_payloads, normalize

_PARAGRAPH = re.compile(r"\n\s*\n")
_TOKEN = re.compile(r"[a-z0-9@$!|+]+")
_LEET_CHARS = re.compile(r"[0-9@$!|+]")
#: Every letter a leet character may stand for, most likely first.
_READINGS = {"0": "o", "1": "il", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g",
             "@": "a", "$": "s", "!": "i", "|": "l", "+": "t"}
_MAX_READINGS = 64


def _wordlike(word: str, vocabulary: frozenset[str]) -> int:
    """How whole a word reads to the embedder: the sum of squared lengths of its WordPiece
    pieces (greedy longest match, as the tokenizer splits), so one whole word scores highest
    and a string that falls into short pieces lowest."""
    score, start = 0, 0
    while start < len(word):
        for end in range(len(word), start, -1):
            piece = word[start:end] if start == 0 else "##" + word[start:end]
            if piece in vocabulary:
                score += (end - start) ** 2
                start = end
                break
        else:
            return score  # a character the vocabulary lacks: no further pieces
    return score


def _read_token(token: str, vocabulary: frozenset[str]) -> str:
    """``token`` spelled back in letters: the reading the embedder finds most word-like."""
    if not _LEET_CHARS.search(token) or not all(c.isalpha() or c in _READINGS for c in token):
        return token
    if token.isdigit() and len(token) > 4:
        return token  # a number, not a word spelled in digits
    options = [_READINGS.get(c, c) for c in token]
    readings = ["".join(r) for r in itertools.islice(itertools.product(*options), _MAX_READINGS)]
    if token.isdigit():  # digits alone are a word only when a reading is one whole word
        return next((r for r in readings if r in vocabulary), token)
    return max(readings, key=lambda r: _wordlike(r, vocabulary))  # first of equals wins


def unleet(text: str) -> str:
    """``text`` (lower case) with every leet token read back as a word where one fits."""
    # the list of pieces the embedder reads is exactly what a reading should be made of
    vocabulary = embedder_vocabulary()
    return _TOKEN.sub(lambda m: _read_token(m.group(0), vocabulary), text)


def _plain_paragraph(text: str, depth: int) -> tuple[str, bool]:
    """The paragraph's plain form, and whether it was a hidden payload."""
    if depth > 0:
        hidden = hidden_payloads(text)
        if hidden:
            return " ".join(plain_attack(h, depth - 1) for h in hidden), True
    found = normalize(text)
    if found.leet_folded:
        unfolded = next(s.text for s in found.segments if s.source == "unfolded")
        return unleet(unfolded), False
    return found.text, False


def plain_attack(text: str, depth: int = 2) -> str:
    """One user turn in plain form: decoded payloads if any paragraph hides one, else the
    de-obfuscated text (lower case, look-alikes folded, leetspeak read back)."""
    read = [_plain_paragraph(p, depth) for p in _PARAGRAPH.split(text) if p.strip()]
    payloads = [t for t, hidden in read if hidden]
    return "\n".join(payloads or [t for t, _ in read]).strip()
