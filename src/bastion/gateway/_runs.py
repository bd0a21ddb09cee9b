"""Encoded runs in a stream's text: held whole until a plain word ends them.

Encoded text (base64, hex, character codes, Morse, quoted-printable) reads as nothing until
it is decoded, and it can be decoded only once enough of it has arrived. The stream guard
(``_held``) releases a field's text no further than where such a run begins
(:func:`run_start`), and reads a run whole, from where it begins (:func:`run_begin`),
before any of it leaves.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

_TOKEN = re.compile(r"\S+")
#: Symbols around a plain word besides punctuation ("*word*", "`word`").
_EDGES = "*`_~"
#: Longest ASCII word counted as plain: a longer run of letters may be base32 or base64.
_WORD_CHARS = 20
#: How far back from released text an encoded run is looked for (:func:`run_begin`).
RUN_BACK = 4096


def run_start(text: str, start: int) -> int:
    """Where the run of tokens that are not plain words at the end of ``text`` begins (not
    before ``start``); the end of ``text`` when it ends in a plain word.

    Encoded text (base64, hex, character codes, Morse, quoted-printable) is read decoded only
    once enough of it has arrived: released as it came, its first pieces left before any
    check could read them (a black-box pass). A run ends at the next plain word; until then it
    waits, and the check that reads it whole decides. A token at the very end may still
    grow, so it ends no run: the first letters of a base64 line (``cy`` of ``cyBob3cg``) read
    as a plain word and let the lines before them go (a fifth black-box pass: base64 in
    lines of eight, streamed, left line by line).
    """
    cut = len(text)
    for token in reversed(list(_TOKEN.finditer(text, start))):
        if _plain(token.group(0)) and token.end() < len(text):
            return cut
        cut = token.start()
    return cut


def run_begin(text: str, at: int) -> int:
    """Where the run of tokens that are not plain words (:func:`_plain`) reaching ``at``
    begins (``at`` when the token before it is plain), looked for :data:`RUN_BACK`
    characters back at most: a run cut at a sentence end inside it left in part, and its
    rest is read with it."""
    begin = at
    for token in reversed(list(_TOKEN.finditer(text, max(0, at - RUN_BACK), at))):
        if _plain(token.group(0)):
            break
        begin = token.start()
    return begin


def run_end(text: str) -> int:
    """Where the run of tokens that are not plain words at the head of ``text`` ends (0 when
    it begins with a plain word), looked for :data:`RUN_BACK` characters on at most."""
    end = 0
    for token in _TOKEN.finditer(text, 0, RUN_BACK):
        if _plain(token.group(0)):
            break
        end = token.end()
    return end


def junctions(texts: list[str], shortest: int) -> Iterator[str]:
    """The encoded run at the end of each text read on into the run at the head of each
    other (:func:`run_begin`, :func:`run_end`), where the two hold ``shortest`` characters
    or more: what a client shows of an encoded run cut between two fields (reasoning
    ending ``aW50ZXJuYWwtdmxs``, content beginning ``bS10b2tlbi03ZjNhOWM=``), which neither
    decodes to alone."""
    ends = [text[run_begin(text, len(text)):] for text in texts]
    heads = [text[:run_end(text)] for text in texts]
    for first, end in enumerate(ends):
        for second, head in enumerate(heads):
            if first != second and end and head and len(end) + len(head) >= shortest:
                yield end + head


def _plain(token: str) -> bool:
    """An ASCII word in a case words take (not ``SGVsbG8``) of at most :data:`_WORD_CHARS`
    letters, with punctuation around it; or other letters and punctuation (Chinese and
    Japanese run whole sentences together without a space)."""
    if not token.isascii():
        return any(c.isalpha() for c in token) and all(
            c.isalpha() or unicodedata.category(c)[0] == "P" for c in token)
    start, end = 0, len(token)
    while start < end and _edge(token[start]):
        start += 1
    while end > start and _edge(token[end - 1]):
        end -= 1
    word = token[start:end]
    return word.isalpha() and len(word) <= _WORD_CHARS and (
        word.islower() or word.isupper() or word[1:].islower())


def _edge(char: str) -> bool:
    return char in _EDGES or unicodedata.category(char)[0] == "P"
