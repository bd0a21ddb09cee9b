"""The gateway's upstream key cut across a stream's chunks.

``_upstream.withhold_upstream`` scrubs each chunk alone, so a key that a model's answer
spells over two chunks or more (``internal-vllm-`` then ``token-7f3a9c``) passed it piece by
piece (a black-box pass, issue 8). The stream guard reads each field's buffer instead: text
that may be the start of the key is held back until the next piece tells (:func:`held_from`),
and a key found whole in the buffer leaves as the placeholder in the slice where it starts,
its other pieces dropped (:func:`cut`): what a client shows is what a whole answer gives.
A key cut between two fields (``reasoning_content`` ends with its first half, ``content``
begins with the rest) is in no field whole: :func:`across` finds it, and the answer is
withheld. A stream is stopped at its end, when every field has ended: a field's end that
may begin the key is held until then, and so is a field's head that may end it
(:func:`may_end_key`; the rest sent before the beginning left first). Halves of the key in
two links or two citations' titles are read apart too (:func:`link_pieces`,
:func:`touches_key`, :func:`key_link_at`).
"""

from __future__ import annotations

import bisect
import itertools
import re
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

#: The most of the key's closing characters a field may begin with and still leave before
#: the stream ends (:func:`may_end_key`): a field beginning with its last character (a 'c'
#: ending the key, any 'Certainly') would otherwise hold every stream whole; three closing
#: characters are fewer than the last four a receipt prints of a card.
KEY_END_SHOWN = 3


#: Letters ``re.IGNORECASE`` (how :func:`cut` and ``_upstream`` find the key) reads as 'i'
#: or 's' where ``str.lower`` keeps them apart: a dotted capital I, a dotless i, a long s.
_SAME_LETTER = (("\u0130", "i"), ("\u0131", "i"), ("\u017f", "s"))


def fold(text: str) -> str:
    """``text`` in lower case as ``re.IGNORECASE`` compares an ASCII key, one character for
    each: ``str.lower`` writes 'İ' as two ('i̇'), which moved every offset after it, so an
    offset found in the lowered text cut the text itself one character off; and it keeps
    the dotted capital I, the dotless i and the long s apart from 'i' and 's', so a key the
    regex withholds was not held back while it arrived, nor found in a whole answer (both
    left)."""
    if not text.isascii():  # (str.translate took 0.4 µs a character)
        for letter, same in _SAME_LETTER:
            text = text.replace(letter, same)
    return text.lower()


def held_from(text: str, secret: str) -> int:
    """Where the longest end of ``text`` that begins ``secret`` (any case) starts: the text
    from there may be the secret still arriving. ``len(text)`` when no end of it does."""
    return next(begun(text, fold(secret)), len(text))


def key_at(text: str, secret: str, start: int = 0) -> int:
    """Where the first whole ``secret`` (any case) at or after ``start`` in ``text`` begins;
    ``len(text)`` when none does."""
    at = fold(text[start:]).find(fold(secret)) if secret else -1
    return len(text) if at == -1 else start + at


def begun(text: str, key: str) -> Iterator[int]:
    """Where each end of ``text`` that begins ``key`` (folded: :func:`fold`) but is shorter
    starts, longest first; offsets in ``text`` itself. Only the end that can is folded: a
    ``find`` per occurrence of the key's first character there."""
    if not key:
        return
    start = max(0, len(text) - len(key) + 1)
    end = fold(text[start:])
    at = end.find(key[0])
    while at != -1:
        if key.startswith(end[at:]):
            yield start + at
        at = end.find(key[0], at + 1)


def continued(text: str, piece: str, secret: str) -> int | None:
    """Where the end of ``text`` that begins ``secret`` (any case) and reads on into
    ``piece`` as it starts: a key's beginning that another field's piece goes on with, in
    the order a client printing every delta shows them. ``None`` when no end does."""
    key = fold(secret)
    after = fold(piece[:len(key)])
    for at in begun(text, key):
        rest = key[len(text) - at:]
        if rest.startswith(after) or after.startswith(rest):
            return at
    return None


def may_end_key(text: str, secret: str) -> bool | None:
    """Whether ``text`` begins with the end of ``secret`` (any case), more of it than
    :data:`KEY_END_SHOWN` characters: the rest of a key whose beginning another field may
    still end with (:func:`across`), so the text waits for the stream's end. ``None`` while
    it may still become one (all of ``text`` so far lies inside the secret), ``False`` once
    it cannot (its head is settled: later pieces only add to the end)."""
    key = fold(secret)
    head = fold(text[:len(key)])
    if not head or not key:
        return False
    undecided = False
    at = key.find(head[0], 1)
    while 0 < at < len(key) - KEY_END_SHOWN:
        rest = key[at:]
        if head.startswith(rest):
            return True
        undecided = undecided or rest.startswith(head)
        at = key.find(head[0], at + 1)
    return None if undecided else False


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
    key = fold(secret)
    if not key:
        return False
    lowered = [fold(text) for text in texts]
    ends = [[len(text) - at for at in begun(text, key)] for text in lowered]
    return _spanning(lowered, key) or any(
        first != second and any(text.startswith(key[size:]) for size in sizes)
        for first, sizes in enumerate(ends) if sizes
        for second, text in enumerate(lowered))


def spelled_apart(reading: str, fields: Iterable[str], secret: str) -> bool:
    """Whether ``reading`` (a stream's pieces one after another as they came, fields
    interleaving) holds ``secret`` (any case) more times than the ``fields`` themselves do:
    a key spelled across fields in the order a client printing every delta shows them, which
    no field holds, so none can be written without it. A key cut over one field's chunks is
    in both, and :func:`cut` writes it out of that field."""
    key = fold(secret)
    return bool(key) and fold(reading).count(key) > sum(fold(text).count(key)
                                                       for text in fields)


def apart(text: str, path: Sequence[object]) -> list[str]:
    """What a string of a field the reader has no name for reads as on its own, beside its
    field's buffer, where the strings are glued: a whole link, or a string in a list below
    its choice or in an object (``choices.0.delta.annotations.0.url_citation.title``, a
    Responses event's ``annotation.title``), as itself and, a link, its pieces
    (:func:`link_pieces`); nothing for a piece of a field's running text
    (``choices.0.delta.note``). Halves of the key in two citations' titles or links were in
    no text of a stream apart, where a whole answer's check (:func:`across` over every
    string) found them."""
    link = _LINK.fullmatch(text.strip()) is not None
    nested = len(path) > 1 and isinstance(path[-2], str) and path[-2] != "delta"
    if not (link or nested or any(isinstance(step, int) for step in path[2:])):
        return []
    return [text, *(link_pieces(text) if link else ())]


def link_pieces(link: str) -> list[str]:
    """The texts a link carries apart, as written and URL-decoded: its host, each segment of
    its path, each key and value of its query, its fragment, and all after its host. Halves
    of the key in two citations' links (``https://a.example/internal-vllm``,
    ``https://a.example/-token-7f3a9c``) are in no string of the answer whole, nor at a
    string's end and another's head, so :func:`across` did not see them; yet a client that
    lists the sources shows both, and one that fetches them sends both to the host (issue 8).
    Read apart, one piece ends with the key's beginning and another begins with its rest."""
    try:
        parts = urllib.parse.urlsplit(link.strip())
    except ValueError:  # a malformed address ("http://[x"): read whole
        return [link]
    tail = link.strip()[len(parts.scheme) + 3 + len(parts.netloc):] if "://" in link else ""
    pieces = [parts.netloc, tail.lstrip("/"), *parts.path.split("/"), parts.fragment,
              *(text for pair in parts.query.split("&") for text in pair.split("=", 1))]
    pieces = [piece for piece in pieces if piece]
    return pieces + [plain for piece in pieces if (plain := _unquoted(piece)) != piece]


#: A link inside a text: a scheme and ``//``; it ends at a space, a quote, an angle bracket,
#: a backtick or a closing parenthesis (a markdown link's or picture's).
_LINK = re.compile(r"(?i)[a-z][a-z0-9+.-]{0,15}://[^\s<>\"'`()]+")


def links_in(texts: Iterable[str]) -> Iterator[str]:
    """The pieces (:func:`link_pieces`) of every link written in ``texts``: two markdown
    pictures ``![](https://a.example/internal-vllm)`` and ``![](https://a.example/-token-7f3a9c)``
    are fetched as the answer shows, each half sent to the host."""
    for text in texts:
        if "://" in text:
            for match in _LINK.finditer(text):
                yield from link_pieces(match.group())


def key_link_at(text: str, start: int, end: int, secret: str) -> int:
    """Where the first link in ``text`` that ends after ``start`` and begins before ``end``
    begins (not before ``start``) when a piece of it may be part of the upstream key
    (:func:`touches_key`); ``end`` when none is. A link in prose leaves no further than
    there: two markdown pictures, each carrying half of the key, are fetched by a client as
    the answer shows, and the stream's stop at its end (:func:`across` over :func:`links_in`)
    came after both had left (issue 8). Recomputed at each check, so a link still arriving
    that grows out of the key leaves."""
    if not secret or "://" not in text[max(0, start - _LINK_BACK):end + _LINK_BACK]:
        return end
    for match in _LINK.finditer(text, max(0, start - _LINK_BACK), end):
        if match.end() > start and any(touches_key(piece, secret)
                                       for piece in link_pieces(match.group())):
            return max(match.start(), start)
    return end


#: How far before released text a link that reaches into it is looked for.
_LINK_BACK = 2048


def _unquoted(text: str) -> str:
    """``text`` URL-decoded until it decodes no further, three times at most (``%252D``)."""
    for _ in range(3):
        plain = urllib.parse.unquote(text)
        if plain == text:
            break
        text = plain
    return text


def touches_key(piece: str, secret: str) -> bool:
    """Whether ``piece``, a whole text (a link's piece: :func:`link_pieces`), ends with more
    of the key's beginning, or begins with more of its end, or lies inside it over more,
    than :data:`KEY_END_SHOWN` characters: a piece of the key that a later text may go on
    with (checked at the stream's end, :func:`across`), held until then. Fewer leave, as a
    field's head that short does (:func:`may_end_key`): a link ending in 's' or 'sk-' would
    otherwise hold every stream citing it whole."""
    if not secret or len(piece) <= KEY_END_SHOWN:
        return False
    return len(piece) - held_from(piece, secret) > KEY_END_SHOWN \
        or may_end_key(piece, secret) is not False


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
