"""Text normalisation against obfuscation, with a map back to the original offsets.

Attackers hide words from filters with look-alike letters, invisible characters, leetspeak
and encodings. :func:`normalize` undoes those so that patterns see the plain text:

1. Unicode NFKC (full-width, ligatures, mathematical letters -> plain letters); symbols
   named as Latin letters that NFKC leaves (negative circled or squared letters, regional
   indicators, small capitals) fold to the letter too.
2. Zero-width, bidi-control and soft-hyphen characters and lone surrogates are dropped;
   Unicode *tag* characters (U+E0000-E007F, used to smuggle invisible ASCII) are dropped from
   the text and their ASCII payload is returned as a decoded segment.
3. Confusable letters (Cyrillic and Greek look-alikes) fold to the Latin letter they imitate,
   using the Unicode confusables table shipped by ``confusable-homoglyphs``.
4. Lower case, and leetspeak folded inside words that mix letters with digits or symbols.
5. Base64, base32, base85 (Ascii85, RFC 1924), uuencode, hex, rot13, quoted-printable,
   Morse, the NATO alphabet, punycode and character codes (binary, decimal, octal numbers)
   are decoded and returned as extra segments to check.
6. A text with URL escapes (``pipe%20bomb``) or words joined by ``+`` is also read with its
   URL-encoded runs decoded (:func:`url_decoded`), and one with markdown emphasis, code
   marks or links, HTML tags or character references (``**pipe** `bomb` ``,
   ``[pipe](https://a.b)``, ``<b>pipe</b>``, ``pipe&#32;bomb``) as a client renders it:
   extra segments, so the plain text is matched as before.

Every character of the normalised text keeps the index of the original character it came
from, so evidence spans always point into the text the user sent.

The steps live apart: :mod:`bastion.classify._fold` folds the characters (steps 1-4, and
the letter ciphers), :mod:`bastion.classify._decode` finds and decodes the payloads of steps 5
and 6 (runs of one encoding are read by :mod:`bastion.classify._encodings`); this module
assembles them into a :class:`Normalized`, and re-exports the names of theirs that the rest
of the package imports from here.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from bastion.classify._decode import (
    DECODED_SOURCES,
    REMEMBERED_CHARS,
    URL_ESCAPE,
    WHOLE_TEXT_SOURCES,
    decode_runs,
    decoded_spans,
    runs_of,
    unescape,
    unescape_spans,
    url_decoded,
    url_runs,
)
from bastion.classify._encodings import _printable, base64_text, morse
from bastion.classify._fold import (
    _CONTROL,
    BLANKS,
    LEET,
    LONE_SURROGATE,
    _fold_leet,
    _fold_unicode,
    braille,
    lookalikes,
    rot13,
    rot47,
    shift_letters,
)

__all__ = [
    "BLANKS",
    "DECODED_SOURCES",
    "LEET",
    "LONE_SURROGATE",
    "REMEMBERED_CHARS",
    "SIGNALS",
    "WHOLE_TEXT_SOURCES",
    "Normalized",
    "Segment",
    "base64_text",
    "braille",
    "decode_runs",
    "decoded_spans",
    "lookalikes",
    "morse",
    "normalize",
    "rot13",
    "rot47",
    "runs_of",
    "shift_letters",
    "unescape",
    "unescape_spans",
    "url_decoded",
    "url_runs",
]


@dataclass(frozen=True)
class Segment:
    """A piece of text to check, with where it came from in the original input."""

    text: str
    index: Sequence[int]  # original offset of each character of ``text`` (a range if the same)
    source: str  # "text", "unfolded", "base64", "base32", "hex", "rot13", "tags", "selectors"

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Map a ``[start, end)`` range of this segment back to the original text."""
        if not self.index:
            return (0, 0)
        first = self.index[min(start, len(self.index) - 1)]
        last = self.index[min(max(end - 1, start), len(self.index) - 1)]
        return (first, last + 1)


@dataclass(frozen=True)
class Normalized:
    """The result of :func:`normalize`: the plain text and any decoded hidden segments."""

    segments: tuple[Segment, ...]
    signals: frozenset[str] = field(default_factory=frozenset)

    @property
    def text(self) -> str:
        """The normalised main text."""
        return self.segments[0].text

    @property
    def leet_folded(self) -> bool:
        """Whether leet symbols in words were read as letters (then the text as written is
        kept too, as the ``unfolded`` segment), disguised or not."""
        return any(segment.source == "unfolded" for segment in self.segments)


#: Every name :func:`normalize` may put in :attr:`Normalized.signals`: the decoded sources,
#: and what folding the characters found.
SIGNALS = DECODED_SOURCES | {"homoglyphs", "compatibility_forms", "leetspeak",
                             "invisible_characters", "tag_characters", "variation_selectors"}


#: Payloads decoded inside one another (base64 of base64 ...): a payload this many layers
#: deep is read as it decodes but not decoded again. Without a bound, a run that decodes to
#: more of itself ('xn--' 5,000 times) recursed past Python's limit (RecursionError).
MAX_LAYERS = 4


def normalize(text: str, *, readings: bool = True, layer: int = 0) -> Normalized:
    """Normalise ``text`` and decode hidden segments (see the module docstring); with
    ``readings`` false, without step 6 (URL-decoded and rendered readings); ``layer``: how
    many decodings ``text`` already is inside (:data:`MAX_LAYERS`)."""
    signals: set[str] = set()
    index: Sequence[int]
    if text.isascii():
        chars, index = text.lower(), range(len(text))
        if _CONTROL.search(chars):
            chars = chars.translate(BLANKS)
        hidden = smuggled = ""
    else:
        chars, index, hidden, smuggled = _fold_unicode(text, signals)
    folded, leet, disguised = _fold_leet(chars)
    segments = [Segment(folded, index, "text")]
    if disguised:
        signals.add("leetspeak")
    if leet:
        # Digits matter to some patterns (card numbers, keys, ages): keep the unfolded form too.
        segments.append(Segment(chars, index, "unfolded"))
    if hidden:
        signals.add("tag_characters")
        segments.append(_whole(hidden.lower(), text, "tags"))
    if smuggled and _printable(smuggled.encode(), 0.5) is not None:
        signals.add("variation_selectors")
        segments.append(_whole(smuggled.lower(), text, "selectors"))
    # RE2 cannot take a lone surrogate; U+FFFD keeps the offsets and breaks a run the same way.
    if layer < MAX_LAYERS:
        segments.extend(_decoded(text if text.isascii() else LONE_SURROGATE.sub("\ufffd", text),
                                 signals, layer))
    rot = rot13(folded)
    if rot != folded:
        segments.append(Segment(rot, index, "rot13"))
    if readings and ("%" in text or "+" in text):
        segments.extend(_url_segment(text, layer))
    if readings and _MARKS.search(text):
        segments.extend(_shown(text, layer))
    return Normalized(tuple(segments), frozenset(signals))


#: Words joined by ``+`` as a form encodes spaces (``how+to+build+a``): four or more.
_PLUS_WORDS = re.compile(r"[^\W\d_]+(?:\+[^\W\d_]+){3,}")


def _url_segment(text: str, layer: int) -> list[Segment]:
    """``text`` with its URL-encoded runs decoded, normalised, as one segment over the span
    from the first run to the last (a keyword half in a run, ``pipe b%6Fmb``, reads whole);
    none when no run decodes to anything new. Read without decoding URLs again: a run encoded
    a thousand times over would recurse a thousand deep."""
    runs = [(start, end, plain) for start, end, plain in url_runs(text, 0)
            if plain != text[start:end] and (URL_ESCAPE.search(text, start, end)
                                             or _PLUS_WORDS.search(text, start, end))]
    if not runs:
        return []
    parts: list[str] = []
    at = 0
    for start, end, plain in runs:
        parts.extend((text[at:start], plain))
        at = end
    parts.append(text[at:])
    return [_whole(normalize("".join(parts), readings=False, layer=layer).text, text, "url",
                   runs[0][0], runs[-1][1])]


#: What a client renders as something else, hiding a word's neighbours from a keyword:
#: markdown emphasis and code marks (``**pipe** `bomb` ``, ``pi*pe*``, ``~~``), a link's
#: target (``[pipe](https://a.b)``), HTML tags (``<b>pipe</b>``, ``pi<b></b>pe``) and
#: character references (``pipe&#32;bomb``: one, below decode_runs' four).
_MARKS = re.compile(r"[*`~<&]|\]\(")
_RENDERED = re.compile(r"\]\(\s*<?[^\s()<>]{0,2000}>?(?:\s+\"[^\"\n]{0,500}\")?\s*\)"
                       r"|<[^<>\n]{0,200}>|&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});"
                       r"|[*`~\[\]]")


def _shown(text: str, layer: int) -> list[Segment]:
    """``text`` as a client renders it (see :data:`_RENDERED`), normalised, over the whole
    text; none when it renders as written. Read without these readings again: a reference
    that decodes to another (``&amp;amp;...``) would recurse."""
    shown = _RENDERED.sub(lambda m: html.unescape(m.group(0)) if m.group(0)[0] == "&" else "",
                          text)
    if shown == text:
        return []
    return [_whole(normalize(shown, readings=False, layer=layer).text, text, "markdown")]


def _whole(
    decoded: str, original: str, source: str, start: int = 0, end: int | None = None
) -> Segment:
    stop = len(original) if end is None else end
    # Every character of a decoded payload maps to the whole encoded run it came from.
    index = (start,) + (stop - 1,) * (len(decoded) - 1) if decoded else ()
    return Segment(decoded, index, source)


def _decoded(text: str, signals: set[str], layer: int) -> list[Segment]:
    """The decoded runs of ``text`` as segments, themselves normalised (a decoded payload may
    be obfuscated too) one ``layer`` deeper; each character maps to the whole encoded run it
    came from."""
    segments = []
    for source, plain, start, end in runs_of(text):
        signals.add(source)
        segments.append(_whole(normalize(plain, layer=layer + 1).text, text, source, start,
                               end))
    return segments
