"""A text's hidden payloads, decoded: :func:`decode_runs` and the whole-text readings.

A text is read decoded whole when it spells its words in JSON ``\\uXXXX`` escapes, HTML
character references or quoted-printable; runs of one encoding (base64, hex, character
codes, Morse, ...) are read by :mod:`bastion.classify._encodings`. The decoders here also say
where each decoded character was sent (:func:`unescape_spans`, :func:`decoded_spans`), so a
masker can replace a value where it arrived, and :func:`url_decoded` is the one
percent-decoder of the classifier and the gateway. :func:`runs_of` remembers a short text's
payloads: two tiers look for them in turn.
"""

from __future__ import annotations

import html
import quopri
import re
import urllib.parse
from functools import lru_cache

import re2

from bastion.classify._encodings import (
    _MAYBE_ENCODED,
    _MAYBE_RUN,
    _base85_runs,
    _byte_runs,
    _code_runs,
    _spelled_runs,
)
from bastion.classify._fold import LONE_SURROGATE, PY_SPACE

# Quoted-printable: three or more ``=XX`` escapes in a row (``=70=69=70=65`` is "pipe"), soft
# line breaks (``=`` at a line's end) aside, or a soft line break inside a word; a text that
# holds one is read decoded whole, words and all, as a mail client shows it.
_QP_RUN = re.compile(r"(?:=[0-9A-Fa-f]{2}){3}")
# ... or three words in a row joined by escaped spaces, ``How=20do=20I=20`` (found in a
# fourteenth black-box pass)
# (RE2: linear in the text; see ``_fold.PY_SPACE``)
_QP_SPACED = re2.compile(rf"(?:[^{PY_SPACE}=]+=20){{3}}")
_QP_SOFT = re.compile(r"=\r?\n")
_QP_SOFT_IN_WORD = re.compile(r"[^\s=]=\r?\n\S")

#: One URL escape (``%20``).
URL_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
#: A run of URL-encoded text: escapes and the characters percent-encoding leaves bare.
URL_RUN = re.compile(r"(?:%[0-9A-Fa-f]{2}|[\w.~+\-])+")
#: The most times a text is URL-decoded (``%2520`` is a space encoded twice).
_URL_DECODINGS = 3


def url_decoded(text: str) -> str:
    """``text`` URL-decoded (``+`` as a space) until it decodes no further, three times at
    most: ``%2520`` is a space encoded twice (found in a seventh black-box pass, once-decoded
    it passed). The one percent-decoder of the classifier's views and the gateway's reading
    of links."""
    for _ in range(_URL_DECODINGS):
        plain = urllib.parse.unquote_plus(text)
        if plain == text:
            break
        text = plain
    return text


def url_runs(text: str, escapes: int = 1) -> list[tuple[int, int, str]]:
    """The URL-encoded runs of ``text`` with at least ``escapes`` escapes: ``(start, end,
    decoded)``."""
    # only a run with an escape or a '+' decodes to anything new (unquote_plus changes no
    # other character): every word is a run, and decoding each one cost more than the rest
    return [(m.start(), m.end(), url_decoded(run) if "%" in run or "+" in run else run)
            for m in URL_RUN.finditer(text)
            if len(URL_ESCAPE.findall(run := m.group(0))) >= escapes]


#: A JSON (or JavaScript, Python) ``\uXXXX`` escape, and the single-character ones.
_ESCAPE = re.compile(r'\\(u[0-9a-fA-F]{4}|["\\/bfnrt])')
_UNICODE_ESCAPE = re.compile(r"\\u[0-9a-fA-F]{4}")
_SIMPLE_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n",
                   "r": "\r", "t": "\t"}


def unescape(text: str) -> str:
    """``text`` with its JSON escapes decoded (surrogate pairs joined, a lone surrogate read
    as U+FFFD), other text as is: what a client reading the JSON text it sits in would see."""
    if "\\" not in text:
        return text
    return _decode_escapes(text, None)


def unescape_spans(text: str) -> tuple[str, list[int]]:
    """:func:`unescape` with where each decoded character starts in ``text``: ``offsets[i]``
    for character ``i``, and one more entry, ``len(text)``; a span ``[a, b)`` of the decoded
    text is ``text[offsets[a]:offsets[b]]`` (how a masker replaces an escaped value in the
    JSON text it arrived in)."""
    offsets: list[int] = []
    return _decode_escapes(text, offsets), offsets


def _decode_escapes(text: str, offsets: list[int] | None) -> str:
    """The one JSON-escape decoder behind :func:`unescape` and :func:`unescape_spans`;
    ``offsets``, when given, receives where each decoded character starts (plain text
    between escapes costs nothing more without it)."""
    out: list[str] = []
    at = 0
    matches = list(_ESCAPE.finditer(text))
    i = 0
    while i < len(matches):
        match = matches[i]
        out.append(text[at:match.start()])
        if offsets is not None:
            offsets.extend(range(at, match.start()))
        code, end, i = match.group(1), match.end(), i + 1
        if code[0] != "u":
            char = _SIMPLE_ESCAPES[code]
        else:
            value = int(code[1:], 16)
            low = _low_surrogate(matches[i]) if i < len(matches) and \
                matches[i].start() == end else None
            if 0xD800 <= value < 0xDC00 and low is not None:
                char = chr(0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00))
                end, i = matches[i].end(), i + 1
            else:
                char = "\ufffd" if 0xD800 <= value < 0xE000 else chr(value)
        out.append(char)
        if offsets is not None:
            offsets.append(match.start())
        at = end
    out.append(text[at:])
    if offsets is not None:
        offsets.extend(range(at, len(text) + 1))
    decoded = "".join(out)
    return decoded if decoded.isascii() else LONE_SURROGATE.sub("\ufffd", decoded)


def _low_surrogate(match: re.Match[str]) -> int | None:
    """The value of a ``\\uXXXX`` escape of a low surrogate, else ``None``."""
    code = match.group(1)
    value = int(code[1:], 16) if code[0] == "u" else 0
    return value if 0xDC00 <= value < 0xE000 else None


#: HTML character references, numeric (``&#71;``, ``&#x47;``) or named (``&eacute;``): a
#: text with four or more of them is read decoded, as a browser or an HTML-aware model would
#: (named ones count when HTML knows the name). A browser reads a numeric one without its
#: semicolon too (``&#71&#105``; found in a black-box pass: a request so written passed).
_ENTITY = re.compile(r"&(?:#(?:[0-9]{1,7}|[xX][0-9a-fA-F]{1,6});?|[A-Za-z][A-Za-z0-9]{1,31};)")
_MIN_ENTITIES = 4


#: One quoted-printable escape, or a soft line break.
_QP_CHAR = re.compile(r"=([0-9A-Fa-f]{2})|=\r?\n")


#: An ASCII character URL-encoded (``%2E``), or encoded twice or more (``%252E``).
_PERCENT_ASCII = re.compile(r"%(?:25)*([0-7][0-9A-Fa-f])")


def decoded_spans(source: str, text: str) -> tuple[str, list[int]] | None:
    """``text`` decoded as a whole-text source of :func:`decode_runs` (``escapes``,
    ``entities``, ``quoted-printable``) with where each decoded character starts in ``text``
    (one more entry: ``len(text)``), so a value found decoded can be masked where it was sent;
    ``None`` for another source. A quoted-printable byte reads as one character here.
    Source ``url`` decodes URL-encoded ASCII characters, however often ``%`` was encoded again
    (``%2E``, ``%252E``); other bytes (parts of UTF-8 characters) stay as sent."""
    if source == "escapes":
        return unescape_spans(text)
    pattern = {"entities": _ENTITY, "quoted-printable": _QP_CHAR,
               "url": _PERCENT_ASCII}.get(source)
    if pattern is None:
        return None
    out: list[str] = []
    offsets: list[int] = []
    at = 0
    for match in pattern.finditer(text):
        out.append(text[at:match.start()])
        offsets.extend(range(at, match.start()))
        char = (html.unescape(match.group(0)) if source == "entities" else
                chr(int(match.group(1), 16)) if match.group(1) else "")  # "": a soft break
        out.append(char)
        offsets.extend([match.start()] * len(char))
        at = match.end()
    out.append(text[at:])
    offsets.extend(range(at, len(text) + 1))
    return "".join(out), offsets


#: Sources of :func:`decode_runs` that decode the whole text, not a run of it.
WHOLE_TEXT_SOURCES = frozenset({"escapes", "entities", "quoted-printable"})
#: Every source :func:`decode_runs` reports (the whole-text ones included).
DECODED_SOURCES = WHOLE_TEXT_SOURCES | {
    "base64", "base32", "base58", "hex", "binary", "decimal", "octal", "a1z26", "a0z25", "z1a26",
    "morse", "nato", "punycode", "ascii85", "base85", "uuencode"}


#: Texts up to this long have their payloads remembered (:func:`runs_of`), the last
#: :data:`_RUNS_REMEMBERED` of them: references to texts the caller holds, 8 MiB of them at most.
REMEMBERED_CHARS = 2048
_RUNS_REMEMBERED = 4096


def runs_of(text: str) -> tuple[tuple[str, str, int, int], ...]:
    """:func:`decode_runs` with the default letters share, remembered for short texts: the
    rules tier (:func:`normalize`) and the static heads
    (``_static_disguise.hidden_readings``) each look for a text's payloads, one after the
    other in the ``fast`` profile, and the second look cost that profile a tenth of its time
    on short texts."""
    return (_remembered_runs(text) if len(text) <= REMEMBERED_CHARS
            else tuple(decode_runs(text)))


@lru_cache(maxsize=_RUNS_REMEMBERED)
def _remembered_runs(text: str) -> tuple[tuple[str, str, int, int], ...]:
    return tuple(decode_runs(text))


def decode_runs(text: str, *, letters_share: float = 0.5) -> list[tuple[str, str, int, int]]:
    """Every hidden form of ``text`` that decodes to readable text, case preserved:
    ``(source, decoded, start, end)`` with the span of ``text`` it stands for. The whole text
    is read decoded when it holds two or more ``\\uXXXX`` escapes (JSON that spells its words
    in escapes, in any shape a client decodes: an array, a string, a fenced block, a stream cut
    mid-string), four or more HTML character references (numeric or named), or three
    quoted-printable escapes in a row (:data:`WHOLE_TEXT_SOURCES`); runs are read alone:
    base64, hex, base32 (:func:`_byte_runs`), binary, decimal or octal character codes and
    Morse (:func:`_code_runs`), the NATO alphabet and punycode (:func:`_spelled_runs`),
    base85 and uuencode (:func:`_base85_runs`). A decoded run must be printable and
    at least ``letters_share`` letters (0 finds encoded numbers, such as a card number, too)."""
    out: list[tuple[str, str, int, int]] = []
    first = _UNICODE_ESCAPE.search(text)
    if first is not None and _UNICODE_ESCAPE.search(text, first.end()) is not None:
        out.append(("escapes", unescape(text), 0, len(text)))
    if "&" in text and sum(html.unescape(m) != m for m in _ENTITY.findall(text)
                           ) >= _MIN_ENTITIES:
        out.append(("entities", html.unescape(text), 0, len(text)))
    if "=" in text and (_QP_RUN.search(_QP_SOFT.sub("", text))
                        or _QP_SOFT_IN_WORD.search(text) or _QP_SPACED.search(text)):
        out.append(("quoted-printable", quopri.decodestring(text.encode("utf-8")).decode(
            "utf-8", "replace"), 0, len(text)))
    if not _MAYBE_RUN.Match(text):
        return out  # most texts: one RE2 scan says no run below can match
    if _MAYBE_ENCODED.search(text):
        out += _byte_runs(text, letters_share) + _code_runs(text, letters_share)
    return out + _spelled_runs(text, letters_share) + _base85_runs(text, letters_share)
