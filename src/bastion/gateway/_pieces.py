"""Pieces of the gateway's upstream key inside one text, with other text between them.

'The first part is internal-vllm and the rest is -token-7f3a9c' holds the key in no string
whole, and no field ends with its beginning where another begins with its rest
(``_split.across``): a client reads both halves, whole answer or streamed (issue 8). A text
is read here for runs that lie inside the key (:func:`shows_pieces`); a stream holds back
an end that may grow into one (:func:`piece_from`).

How long a piece must be (:func:`piece_chars`): long enough that a benign text matches no
run of the key by chance. Text is compared as the key is scrubbed, in any case
(``_split.fold``), so what counts is the key's alphabet once folded: 26 letters if it has
one (6 when all are 'a' to 'f': hex), 10 digits if it has one, and each other character it
holds ('-', '_'). A run of ``m`` characters of a random key over ``A`` symbols matches a
given place of a text with probability ``A ** -m``; a gateway reading 10 million answers of
10,000 characters compares about 2**36.5 places with each of a key's 256 offsets at most
(2**8), so :data:`_BITS` = 50 bits a piece leaves about 0.02 chance matches over all of
that: 10 characters for an ``sk-proj-`` key folded to 38 symbols, or for the test key's 37
(letters, digits, '-'), 13 for a hex key, 16 for digits alone. A key made of words is less
random than its alphabet says (the test key's 'internal-vllm' is also a host's name an
answer may write): the figure for benign text is measured (the commit that added this
module). One piece that long already shows more of the key than ``KEY_END_SHOWN``
characters, so one is enough; a stream holds back an end of more than ``KEY_END_SHOWN``
characters of the key until it is long enough to count or cannot grow, so no more than
that leaves before the stream is stopped.

A key's public prefix (``sk-``, ``sk-proj-``, ``sk-ant-api03-``: :data:`_PUBLIC`) names its
vendor, and any answer about keys writes it ('a key begins with sk-proj-...'): only the
characters after it count toward a piece.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable
from typing import Any

import re2

from bastion.gateway._split import KEY_END_SHOWN, fold

#: Bits of the key a piece must carry to count (see the module).
_BITS = 50
#: A vendor's prefix: up to three short words, each ending with '-' or '_'; counted only
#: when at least :data:`_AFTER_PUBLIC` characters follow it.
_PUBLIC = re.compile(r"(?:[a-z0-9]{1,5}[-_]){1,3}")
_AFTER_PUBLIC = 16


@functools.lru_cache(maxsize=8)
def piece_chars(secret: str) -> int:
    """The fewest characters of ``secret`` after its public prefix that a run in a text must
    hold to be a piece of it: :data:`_BITS` over the bits of a character of its folded
    alphabet (see the module)."""
    key = fold(secret)[_public(fold(secret)):]
    letters = {c for c in key if c.isascii() and c.isalpha()}
    size = (0 if not letters else 6 if letters <= set("abcdef") else 26) \
        + (10 if any(c.isdigit() and c.isascii() for c in key) else 0) \
        + len({c for c in key if not (c.isascii() and c.isalnum())})
    return max(KEY_END_SHOWN + 1, math.ceil(_BITS / math.log2(max(size, 2))))


def _public(key: str) -> int:
    """How many characters of ``key`` (folded) are its vendor's prefix."""
    match = _PUBLIC.match(key)
    return match.end() if match and len(key) - match.end() >= _AFTER_PUBLIC else 0


@functools.lru_cache(maxsize=8)
def _seeds(secret: str) -> Any:
    """Every run of :func:`piece_chars` characters of ``secret``'s folded text after its
    public prefix, one pattern (RE2 reads a text once for all of them); ``None`` when the
    key is too short to hold one."""
    key, size = fold(secret), piece_chars(secret)
    start = _public(key)
    runs = {key[at:at + size] for at in range(start, len(key) - size + 1)}
    return re2.compile("|".join(map(re2.escape, sorted(runs)))) if runs else None


def shows_pieces(texts: Iterable[str], secret: str) -> bool:
    """Whether one of ``texts`` holds a run of ``secret`` (any case) long enough to be a
    piece of it (:func:`piece_chars`) outside the key's whole occurrences (written out as
    ``[withheld]`` where they stand: no piece)."""
    seeds = _seeds(secret) if secret else None
    return seeds is not None and any(seeds.search(_unkeyed(text, secret)) is not None
                                     for text in texts)


def piece_between(text: str, secret: str, start: int, end: int) -> bool:
    """Whether ``text[:end]`` holds a piece of ``secret`` (:func:`shows_pieces`) that ends
    after ``start``: a stream's text not yet released (``start``: where it begins) up to an
    end that may still be the whole key arriving (``_split.held_from``, ``end``). Only text
    near it is read: a piece that began before ``start`` showed no more than
    ``KEY_END_SHOWN`` characters there (:func:`piece_from` held a longer end), and a whole
    key reaching into it is read whole, so it is blanked, never taken for a piece."""
    seeds = _seeds(secret) if secret else None
    if seeds is None or end <= start:
        return False
    first = max(0, start - piece_chars(secret) + 1)
    origin = max(0, first - len(secret))
    return seeds.search(_unkeyed(text[origin:end], secret), first - origin) is not None


def _unkeyed(text: str, secret: str) -> str:
    """``text`` folded, each whole ``secret`` in it blanked (offsets kept)."""
    key = fold(secret)
    return fold(text).replace(key, "\0" * len(key))


def piece_from(text: str, secret: str) -> int:
    """Where the longest end of ``text`` that lies inside ``secret`` (any case) and holds more
    than ``KEY_END_SHOWN`` characters of it begins: a piece that the next chunk may make
    long enough to count (:func:`shows_pieces`), held until it does or cannot; ``len(text)``
    when no such end. Fewer characters leave, as a field's head that short does
    (``_split.may_end_key``)."""
    key = fold(secret)
    size = KEY_END_SHOWN
    tail = _unkeyed(text[-len(key):], secret) if key else ""
    while size < len(tail) and tail[-size - 1:] in key:
        size += 1
    return len(text) - size if size > KEY_END_SHOWN else len(text)
