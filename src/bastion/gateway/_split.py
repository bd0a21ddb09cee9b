"""The gateway's upstream key cut across a stream's chunks.

``_upstream.withhold_upstream`` scrubs each chunk alone, so a key that a model's answer
spells over two chunks or more (``internal-vllm-`` then ``token-7f3a9c``) passed it piece by
piece (a black-box pass, issue 8). The stream guard reads each field's buffer instead: text
that may be the start of the key is held back until the next piece tells (:func:`held_from`),
and a key found whole in the buffer leaves as the placeholder in the slice where it starts,
its other pieces dropped (:func:`cut`): what a client shows is what a whole answer gives.
A key cut between two fields (``reasoning_content`` ends with its first half, ``content``
begins with the rest) is in no field whole: :func:`across` finds it, and the answer is
withheld.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any


def held_from(text: str, secret: str) -> int:
    """Where the longest end of ``text`` that begins ``secret`` (any case) starts: the text
    from there may be the secret still arriving. ``len(text)`` when no end of it does."""
    first, size = secret[:1].lower(), len(secret)
    for at in range(max(0, len(text) - size + 1), len(text)):
        if text[at].lower() == first and secret.lower().startswith(text[at:].lower()):
            return at
    return len(text)


def cut(text: str, secret: str, start: int, end: int, placeholder: str,
        rest: Callable[[int, int], str]) -> tuple[str, bool]:
    """``text[start:end]`` with each whole ``secret`` (any case) in ``text`` that overlaps it
    written as ``placeholder`` where the secret starts and dropped from the slices after;
    ``rest(a, b)`` writes the text around them (masked, restored). Also whether any was
    found. An end that may be the secret still arriving must not be sent yet
    (:func:`held_from`)."""
    parts: list[str] = []
    at, found = start, False
    if secret:
        quoted = re.compile(re.escape(secret), re.IGNORECASE)
        for hit in quoted.finditer(text, max(0, start - len(secret) + 1),
                                   end + len(secret) - 1):
            if hit.start() >= end:
                break
            found = True
            if hit.start() >= start:
                parts.extend((rest(at, hit.start()), placeholder))
            at = max(at, min(hit.end(), end))
    parts.append(rest(at, end))
    return "".join(parts), found


def across(texts: Sequence[str], secret: str) -> bool:
    """Whether one of ``texts`` ends with a beginning of ``secret`` (any case) and another
    begins with the rest: the secret cut between two fields, which a client shows side by
    side (a black-box pass: reasoning, then content); or the secret runs over three texts or
    more in a row (:func:`_spanning`)."""
    key = secret.lower()
    if not key:
        return False
    lowered = [text.lower() for text in texts]
    ends = [_begun(text, key) for text in lowered]
    return _spanning(lowered, key) or any(
        first != second and any(text.startswith(key[size:]) for size in sizes)
        for first, sizes in enumerate(ends) if sizes
        for second, text in enumerate(lowered))


def _spanning(texts: list[str], key: str) -> bool:
    """Whether ``key`` runs across three texts or more in a row, as the tokens of ``logprobs``
    spell an answer (two are found in any order by :func:`across`)."""
    joined = "".join(texts)
    bounds = list(itertools.accumulate(len(text) for text in texts))
    at = joined.find(key)
    while at != -1:
        first = bisect.bisect_right(bounds, at)
        if bisect.bisect_right(bounds, at + len(key) - 1) > first + 1:
            return True
        at = joined.find(key, at + 1)
    return False


def _begun(text: str, key: str) -> list[int]:
    """The lengths of the ends of ``text`` that begin ``key`` but are shorter (both lower
    case): a ``find`` per occurrence of its first character near the end."""
    sizes = []
    at = text.find(key[0], max(0, len(text) - len(key) + 1))
    while at != -1:
        if key.startswith(text[at:]):
            sizes.append(len(text) - at)
        at = text.find(key[0], at + 1)
    return sizes


def strings(value: Any) -> Iterator[str]:
    """Every string inside a JSON value, in order."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)
