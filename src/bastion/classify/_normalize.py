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
"""

from __future__ import annotations

import base64
import binascii
import html
import itertools
import json
import quopri
import re
import string
import unicodedata
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib import resources

import re2

_INVISIBLE = frozenset([
    0x00AD, 0x034F, 0x061C, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180E, 0x3164, 0xFEFF, 0xFFA0,
    *range(0x200B, 0x2010),  # zero-width space/joiners, LRM/RLM
    *range(0x202A, 0x202F),  # bidi embeddings and overrides
    *range(0x2060, 0x2070),  # word joiner, invisible operators, bidi isolates
    *range(0xFE00, 0xFE10),  # variation selectors
    *range(0xE0100, 0xE01F0),  # variation selectors supplement
    *range(0xD800, 0xE000),  # lone surrogates: half a UTF-16 pair, not text (JSON can escape one)
])
#: Variation selectors as the byte each can smuggle: VS1-16 are 0-15, VS17-256 are 16-255
#: (hiding text "in an emoji" writes a byte a selector after one visible character).
_SELECTOR_BYTE = {**{0xFE00 + b: b for b in range(16)}, **{0xE0100 + b: 16 + b for b in range(240)}}
#: Fewest selectors in a row read as smuggled bytes (an emoji takes one, VS16).
_SELECTOR_RUN = 4
_ZWJ = 0x200D
#: A lone surrogate (Python pairs the halves of a whole pair into one character).
LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_TAG_LOW, _TAG_HIGH = 0xE0000, 0xE007F
#: Characters that show as nothing or a blank but are not whitespace: control characters
#: (NUL...) and the blank braille cell. Put between words, they kept patterns from seeing the
#: words as words; they read as a space (same length, so offsets hold).
BLANKS = {**dict.fromkeys([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F], " "),
          0x2800: " "}
_CONTROL = re.compile("[" + re.escape("".join(chr(c) for c in BLANKS if c < 128)) + "]")
#: Leet symbols read as the letters they stand for (a "1" is also an "l": see the views).
LEET = str.maketrans({
    "0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i",
    "|": "l", "8": "b", "9": "g", "+": "t",
})
# A whole run of letters, digits and leet symbols that holds a letter and a leet symbol. The
# lookbehind lets the lookaheads run only where a run starts, so each run is scanned a fixed
# number of times (unanchored lookaheads would rescan it from every position: quadratic time).
_LEET_RUN = re.compile(r"(?<![A-Za-z0-9@$!|+])(?=[A-Za-z0-9@$!|+]*[A-Za-z])"
                       r"(?=[A-Za-z0-9@$!|+]*[0-9@$!|+])[A-Za-z0-9@$!|+]{3,}")
_HAS_LEET = re.compile(r"[0-9@$!|+]")
#: A leet symbol between two letters in a word of four or more characters ("p1pe", "h4ck",
#: "1gn0r3"): what reports ``leetspeak``. Digits that merely belong to a word ("mp3", "x86",
#: "covid19", "hunter2", "b2b"), hexadecimal ids (:data:`_HEX_WORD`), the code of a
#: ``\\u00e9`` escape and an email address are folded for the rules all the same, but hide
#: nothing.
_DISGUISED = re.compile(r"(?=[A-Za-z0-9@$!|+]{4})[A-Za-z0-9@$!|+]*[A-Za-z][0-9@$!|+]+[A-Za-z]")
_HEX_WORD = re.compile(r"[0-9A-Fa-f]+")
#: What follows the local part and first label of an email address (``john@example``
#: ``.com``): no disguise.
_DOMAIN_AFTER = re.compile(r"(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
#: ``_SHIFTS[s]`` moves each ASCII letter ``s`` places on along the alphabet, case kept.
_SHIFTS = tuple(str.maketrans(string.ascii_letters, "".join(
    a[s:] + a[:s] for a in (string.ascii_lowercase, string.ascii_uppercase)))
    for s in range(26))
#: Padding may lead too: base64 written backwards (``==wPl12b...``).
_B64 = re.compile(r"(?<![A-Za-z0-9+/=_-])={0,2}[A-Za-z0-9+/_-]{16,}={0,2}(?![A-Za-z0-9+/=_-])")
#: Base64 cut into short lines (fewer than 16 characters each, so no line is a run of its
#: own), three lines or more: read joined (found in a fifth black-box pass: a request in
#: lines of eight passed).
#: The first line may end a line of prose and the last begin one (a thirteenth pass: such
#: lines between prose passed); :func:`_byte_runs` then tries without them.
_B64_LINES = re.compile(r"(?m)(?:^|(?<=[ \t]))[A-Za-z0-9+/]{4,15}[ \t]*\n(?:[ \t]*"
                        r"[A-Za-z0-9+/]{4,15}[ \t]*\n)+[ \t]*[A-Za-z0-9+/]{2,15}={0,2}(?=[ \t]|$)")
#: Base64 in groups of four apart by spaces, eight groups or more (found in a seventh
#: black-box pass: ``SG93 IGRv IEkg ...`` passed, each group read as a word).
_B64_GROUPS = re.compile(r"(?<![A-Za-z0-9+/])(?:[A-Za-z0-9+/]{4} ){7,}[A-Za-z0-9+/]{2,4}={0,2}"
                         r"(?![A-Za-z0-9+/])")
#: Base64 a word at a time, four words or more apart by spaces, each a whole base64 string
#: (found in a fourteenth black-box pass: ``SG93 ZG8= SQ== YnVpbGQ= ...`` passed); looked
#: for only where two padded words stand close (:data:`_B64_PADDED`), as ordinary words of
#: four or eight letters are base64 in form too (and decode to bytes, not text).
_B64_WORD = r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{4}|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2}==)"
_B64_WORDS = re.compile(rf"(?<![A-Za-z0-9+/=])(?:{_B64_WORD} ){{3,}}{_B64_WORD}(?![A-Za-z0-9+/=])")
_B64_PADDED_SOURCE = r"[A-Za-z0-9+/]{2}={1,2} (?:[A-Za-z0-9+/]{2,}={0,2} ){0,3}[A-Za-z0-9+/]{2,}="
_B64_PADDED = re.compile(_B64_PADDED_SOURCE)
_HEX = re.compile(r"(?:(?:\\x|0x)?[0-9a-fA-F]{2}[\s,:;|/\-]?){8,}")
_HEX_DIGITS = re.compile(r"[0-9a-fA-F]{2}")
# Base32 as RFC 4648 writes it: upper-case letters and the digits 2-7, padded with "=".
_B32 = re.compile(r"(?<![A-Za-z0-9+/=_-])[A-Z2-7]{16,}={0,6}(?![A-Za-z0-9+/=_-])")
# Character codes written as numbers: eight or more decimal (``72 105``), octal (``110 151``)
# or binary (``01001000``) numbers in a row, one character each, between spaces or commas.
_CODE_GAP = r"[\s,;:|/.\-]+"
_CODES = re.compile(rf"(?<![\w.])(?:[0-9]{{1,8}}{_CODE_GAP}){{7,}}[0-9]{{1,8}}(?!\w)")
#: Character codes as calls, eight or more: ``chr(72)+chr(111)``, SQL's ``CHAR(72)+CHAR(111)``
#: (found in a ninth black-box pass: the SQL form passed, 0.45-0.49).
_CHAR_CALLS = re.compile(r"(?i)(?:\b(?:n?chr|n?char)\(\s*[0-9]{1,7}\s*\)[\s+,|.&]*){8,}")
# Morse: eight or more letters of dots and dashes, letters apart by a space, words by three
# spaces or a slash; bullets and minus signs read as dots and dashes (_MORSE_FOLD).
_MORSE = re.compile(r"(?<![\w.\-])(?:[.\-]{1,6}(?: {1,3}| / |/))"
                    r"{7,}[.\-]{1,6}(?![\w.\-])")
_MORSE_DOTS = "\u2022\u00b7\u2219\u22c5\u25cf\u30fb\uff65"
_MORSE_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2043\u2212\uff0d"
_MORSE_FOLD = str.maketrans(_MORSE_DOTS + _MORSE_DASHES,
                            "." * len(_MORSE_DOTS) + "-" * len(_MORSE_DASHES))
# Bits run together: four or more bytes of eight bits, or characters of seven.
_BITS = re.compile(r"(?<![0-9A-Za-z])[01]{28,}(?![0-9A-Za-z])")
# Quoted-printable: three or more ``=XX`` escapes in a row (``=70=69=70=65`` is "pipe"), soft
# line breaks (``=`` at a line's end) aside, or a soft line break inside a word; a text that
# holds one is read decoded whole, words and all, as a mail client shows it.
_QP_RUN = re.compile(r"(?:=[0-9A-Fa-f]{2}){3}")
# ... or three words in a row joined by escaped spaces, ``How=20do=20I=20`` (found in a
# fourteenth black-box pass)
_QP_SPACED = re.compile(r"(?:[^\s=]+=20){3}")
_QP_SOFT = re.compile(r"=\r?\n")
_QP_SOFT_IN_WORD = re.compile(r"[^\s=]=\r?\n\S")
# What any match of _B64, _HEX, _B32, _CODES or _MORSE must contain (a looser pattern: every
# match of theirs matches it), in RE2, which scans a text several times faster than ``re``
# runs them: most texts hold none, and the exact patterns then never run.
_MAYBE_ENCODED = re2.compile(
    r"[A-Za-z0-9+/_-]{16}|(?:(?:\\x|0x)?[0-9a-fA-F]{2}[^0-9a-fA-F]?){8}"
    r"|(?:[A-Za-z0-9+/]{4,15}[ \t]*\n[ \t]*){2}[A-Za-z0-9+/]{2}|(?:[A-Za-z0-9+/]{4} ){7}"
    rf"|(?i:n?chr|n?char)\([0-9]|{_B64_PADDED_SOURCE}"
    rf"|(?:[0-9]{{1,8}}{_CODE_GAP}){{7}}[0-9]"
    rf"|(?:[.\-{_MORSE_DOTS}{_MORSE_DASHES}]{{1,6}}(?: {{1,3}}| / |/)){{7}}")
_MORSE_LETTERS = {".-": "a", "-...": "b", "-.-.": "c", "-..": "d", ".": "e", "..-.": "f",
    "--.": "g", "....": "h", "..": "i", ".---": "j", "-.-": "k", ".-..": "l", "--": "m",
    "-.": "n", "---": "o", ".--.": "p", "--.-": "q", ".-.": "r", "...": "s", "-": "t", "..-": "u",
    "...-": "v", ".--": "w", "-..-": "x", "-.--": "y", "--..": "z", "-----": "0", ".----": "1",
    "..---": "2", "...--": "3", "....-": "4", ".....": "5", "-....": "6", "--...": "7",
    "---..": "8", "----.": "9", ".-.-.-": ".", "--..--": ",", "..--..": "?", "-.-.--": "!",
    "-....-": "-", ".----.": "'"}


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


@cache
def lookalikes() -> frozenset[str]:
    """The characters read as an ASCII letter or digit they look like (not ASCII)."""
    return frozenset(_confusables())


@cache
def _confusables() -> dict[str, str]:
    data = json.loads(
        resources.files("confusable_homoglyphs").joinpath("confusables.json").read_text("utf-8")
    )
    table: dict[str, str] = {}
    for char, entries in data.items():
        if len(char) != 1 or char.isascii():
            continue
        for entry in entries:
            target = entry.get("c", "")
            if len(target) == 1 and target.isascii() and target.isalnum():
                table[char] = target.lower()
                break
    return table


def normalize(text: str, *, readings: bool = True) -> Normalized:
    """Normalise ``text`` and decode hidden segments (see the module docstring); with
    ``readings`` false, without step 6 (URL-decoded and rendered readings)."""
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
    segments.extend(_decoded(text if text.isascii() else LONE_SURROGATE.sub("\ufffd", text),
                             signals))
    rot = rot13(folded)
    if rot != folded:
        segments.append(Segment(rot, index, "rot13"))
    if readings and ("%" in text or "+" in text):
        segments.extend(_url_segment(text))
    if readings and _MARKS.search(text):
        segments.extend(_shown(text))
    return Normalized(tuple(segments), frozenset(signals))


#: One URL escape (``%20``).
URL_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
#: A run of URL-encoded text: escapes and the characters percent-encoding leaves bare.
URL_RUN = re.compile(r"(?:%[0-9A-Fa-f]{2}|[\w.~+\-])+")
#: Words joined by ``+`` as a form encodes spaces (``how+to+build+a``): four or more.
_PLUS_WORDS = re.compile(r"[^\W\d_]+(?:\+[^\W\d_]+){3,}")
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


def _url_segment(text: str) -> list[Segment]:
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
    return [_whole(normalize("".join(parts), readings=False).text, text, "url", runs[0][0],
                   runs[-1][1])]


#: What a client renders as something else, hiding a word's neighbours from a keyword:
#: markdown emphasis and code marks (``**pipe** `bomb` ``, ``pi*pe*``, ``~~``), a link's
#: target (``[pipe](https://a.b)``), HTML tags (``<b>pipe</b>``, ``pi<b></b>pe``) and
#: character references (``pipe&#32;bomb``: one, below decode_runs' four).
_MARKS = re.compile(r"[*`~<&]|\]\(")
_RENDERED = re.compile(r"\]\(\s*<?[^\s()<>]{0,2000}>?(?:\s+\"[^\"\n]{0,500}\")?\s*\)"
                       r"|<[^<>\n]{0,200}>|&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});"
                       r"|[*`~\[\]]")


def _shown(text: str) -> list[Segment]:
    """``text`` as a client renders it (see :data:`_RENDERED`), normalised, over the whole
    text; none when it renders as written. Read without these readings again: a reference
    that decodes to another (``&amp;amp;...``) would recurse."""
    shown = _RENDERED.sub(lambda m: html.unescape(m.group(0)) if m.group(0)[0] == "&" else "",
                          text)
    if shown == text:
        return []
    return [_whole(normalize(shown, readings=False).text, text, "markdown")]


def shift_letters(text: str, shift: int) -> str:
    """``text`` with its ASCII letters moved ``shift`` places on (a Caesar cipher; 13 is
    rot13), by one translate."""
    return text.translate(_SHIFTS[shift % 26])


def rot13(text: str) -> str:
    """``text`` with its ASCII letters rotated by 13 (``codecs``' rot13)."""
    return shift_letters(text, 13)


#: ROT47: every printable ASCII character but the space moved 47 places along ``!`` to ``~``.
_ROT47 = str.maketrans({chr(c): chr(33 + (c - 33 + 47) % 94) for c in range(33, 127)})


def rot47(text: str) -> str:
    """``text`` with its printable ASCII characters rotated by 47 (its own inverse)."""
    return text.translate(_ROT47)


def _emoji_glue(text: str, position: int) -> bool:
    """Whether the invisible character at ``position`` is how emoji are written: one variation
    selector after a symbol or a keycap's digit (``\u2764\ufe0f``, ``1\ufe0f\u20e3``), a
    zero-width joiner between two symbols (a family, a flag). Such characters are dropped
    without the invisible-characters signal: the abuse monitor counts that signal as hiding."""
    before = text[position - 1] if position else ""
    after = text[position + 1] if position + 1 < len(text) else ""
    code = ord(text[position])
    if code in _SELECTOR_BYTE:
        return (bool(before) and ord(before) not in _SELECTOR_BYTE
                and (unicodedata.category(before) in ("So", "Sk") or before in "0123456789#*")
                and not (after and ord(after) in _SELECTOR_BYTE))
    return code == _ZWJ and _symbol(before) and _symbol(after)


def _symbol(char: str) -> bool:
    """A symbol an emoji sequence joins (the selector after it counted with it)."""
    return bool(char) and (unicodedata.category(char) in ("So", "Sk")
                           or ord(char) in _SELECTOR_BYTE)


def _fold_unicode(text: str, signals: set[str]) -> tuple[str, tuple[int, ...], str, str]:
    """The folded text, each character's original offset, the text of its tag characters, and
    the text hidden in runs of :data:`_SELECTOR_RUN` variation selectors or more, read as
    UTF-8 bytes (found in a sixth black-box pass: a request so written after one emoji
    passed, read by the model as the emoji)."""
    table = _confusables()
    out: list[str] = []
    index: list[int] = []
    hidden: list[str] = []
    runs: list[bytes] = []  # the runs of variation selectors, as the bytes they stand for
    run = bytearray()
    for position, char in enumerate(text):
        code = ord(char)
        byte = _SELECTOR_BYTE.get(code)
        if byte is not None:
            run.append(byte)
        elif run:
            runs.append(bytes(run))
            run.clear()
        if _TAG_LOW <= code <= _TAG_HIGH:
            if 0xE0020 <= code <= 0xE007E:
                hidden.append(chr(code - 0xE0000))
            continue
        if code in _INVISIBLE:
            if not _emoji_glue(text, position):
                signals.add("invisible_characters")
            continue
        if code < 128 or code == 0x2800:
            out.append(BLANKS.get(code, char).lower())
            index.append(position)
            continue
        folded = unicodedata.normalize("NFKC", char)
        if folded == char and char not in table:
            folded = _letter_symbol(char) or _BRAILLE.get(char, char)
        if folded != char and folded.isascii():
            signals.add("compatibility_forms")
        for piece in folded:
            mapped = table.get(piece) if not piece.isascii() else None
            if mapped is not None:
                signals.add("homoglyphs")
            out.append(mapped if mapped is not None else piece.lower())
            index.append(position)
    runs.append(bytes(run))
    smuggled = b" ".join(r for r in runs if len(r) >= _SELECTOR_RUN)
    return "".join(out), tuple(index), "".join(hidden), smuggled.decode("utf-8", "replace").strip()


#: The name of a symbol that stands for a Latin letter and that NFKC leaves as it is: negative
#: circled or squared capitals (U+1F150, U+1F170), regional indicators (U+1F1E6, which make
#: flags in pairs) and small capitals (U+1D00). Found in a black-box pass: a request written
#: in them passed, read by the model as symbols. An accented letter's name goes on ("... WITH
#: ACUTE") and is no match.
_LETTER_NAME = re.compile(r"(?:LATIN (?:CAPITAL |SMALL )?LETTER|SYMBOL LETTER"
                          r"|LATIN LETTER SMALL CAPITAL) ([A-Z])$")


#: Braille letters a to z (Unicode braille cells, dots 1 to 6 as bits 0 to 5). Found in a
#: fifth black-box pass: a request written in them passed, read by the model as symbols.
_BRAILLE = {chr(0x2800 + dots): letter for letter, dots in zip(
    "abcdefghijklmnopqrstuvwxyz",
    (0x01, 0x03, 0x09, 0x19, 0x11, 0x0B, 0x1B, 0x13, 0x0A, 0x1A, 0x05, 0x07, 0x0D, 0x1D,
     0x15, 0x0F, 0x1F, 0x17, 0x0E, 0x1E, 0x25, 0x27, 0x3A, 0x2D, 0x3D, 0x35), strict=True)}


def braille(text: str) -> str:
    """``text`` with its letters written as Braille cells (the inverse of the folding; other
    characters as they are): for the red team's converter."""
    cells = {letter: cell for cell, letter in _BRAILLE.items()}
    return "".join(cells.get(c.lower(), c) for c in text)


def morse(text: str) -> str:
    """``text`` in Morse code: letters apart by a space, words by `` / `` (characters Morse
    has no code for are dropped): for the red team's converter."""
    codes = {letter: code for code, letter in _MORSE_LETTERS.items()}
    return " / ".join(" ".join(codes[c] for c in word.lower() if c in codes)
                      for word in text.split())


@cache
def _letter_symbol(char: str) -> str | None:
    """The ASCII letter a symbol named as a Latin letter stands for (see
    :data:`_LETTER_NAME`), else ``None``."""
    match = _LETTER_NAME.search(unicodedata.name(char, ""))
    return match.group(1).lower() if match else None


def _fold_leet(text: str) -> tuple[str, bool, bool]:
    """``text`` with its words' leet symbols read as letters, whether any was, and whether a
    word looks disguised (:data:`_DISGUISED`), not merely written with digits."""
    changed = disguised = False

    if not _HAS_LEET.search(text):
        return text, False, False

    def repl(match: re.Match[str]) -> str:
        nonlocal changed, disguised
        word = match.group(0)  # holds a letter and a leet symbol (see _LEET_RUN)
        if word.rstrip("!+").isalpha():  # "Hi!", "C++": punctuation after a word, not leet
            return word
        changed = True
        disguised = disguised or (
            _DISGUISED.search(word) is not None and not _HEX_WORD.fullmatch(word)
            and text[match.start() - 1:match.start()] != "\\"
            and not ("@" in word and _DOMAIN_AFTER.match(text, match.end())))
        return word.translate(LEET)

    # Length is unchanged by the fold, so the offset map stays valid.
    return _LEET_RUN.sub(repl, text), changed, disguised


def _whole(
    decoded: str, original: str, source: str, start: int = 0, end: int | None = None
) -> Segment:
    stop = len(original) if end is None else end
    # Every character of a decoded payload maps to the whole encoded run it came from.
    index = (start,) + (stop - 1,) * (len(decoded) - 1) if decoded else ()
    return Segment(decoded, index, source)


def _printable(data: bytes, letters_share: float = 0.5) -> str | None:
    try:
        decoded = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    printable = sum(ch.isprintable() or ch.isspace() for ch in decoded)
    letters = sum(ch.isalpha() for ch in decoded)
    if not decoded or printable < 0.95 * len(decoded) or letters < letters_share * len(decoded):
        return None
    return decoded


def _decoded(text: str, signals: set[str]) -> list[Segment]:
    """The decoded runs of ``text`` as segments, themselves normalised (a decoded payload may
    be obfuscated too); each character maps to the whole encoded run it came from."""
    segments = []
    for source, plain, start, end in runs_of(text):
        signals.add(source)
        segments.append(_whole(normalize(plain).text, text, source, start, end))
    return segments


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
#: Every name :func:`normalize` may put in :attr:`Normalized.signals`: the decoded sources,
#: and what folding the characters found.
SIGNALS = DECODED_SOURCES | {"homoglyphs", "compatibility_forms", "leetspeak",
                             "invisible_characters", "tag_characters", "variation_selectors"}


#: Texts up to this long have their payloads remembered (:func:`runs_of`), the last
#: :data:`_RUNS_REMEMBERED` of them: references to texts the caller holds, 8 MiB of them at most.
REMEMBERED_CHARS = 2048
_RUNS_REMEMBERED = 4096


def runs_of(text: str) -> tuple[tuple[str, str, int, int], ...]:
    """:func:`decode_runs` with the default letters share, remembered for short texts: the
    rules tier (:func:`normalize`) and the static heads (``_static.hidden_readings``) each
    look for a text's payloads, one after the other in the ``fast`` profile, and the second
    look cost that profile a tenth of its time on short texts."""
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


# A run of 20 or more printable ASCII characters with no space: what base85 text looks like
# (so do long words, paths and URLs, which do not decode to readable text); Adobe's Ascii85
# between ``<~`` and ``~>``, line breaks and all; a uuencoded block between ``begin`` and
# ``end``.
_MAYBE_BASE85 = re2.compile(r"[!-~]{20}")
_BASE85_RUN = re.compile(r"(?<![!-~])[!-~]{20,}")
_ADOBE85 = re.compile(r"<~([!-u\sz]+)~>")
_UUENCODED = re.compile(r"(?<!\S)begin [0-7]{3,4} [^\n]+\n((?:[!-`][ -`]*\n)+)(?:`\n)?end\b")
_B85_ALPHABET = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                          "!#$%&()*+-;<=>?@^_`{|}~")


def _base85_runs(text: str, letters_share: float) -> list[tuple[str, str, int, int]]:
    """Ascii85 (bare or between ``<~ ~>``), base85 as RFC 1924 and git write it, and
    uuencoded blocks that decode to readable text (found in a black-box pass: a request in
    Ascii85 passed, read by the model as noise)."""
    out: list[tuple[str, str, int, int]] = []
    for match in _ADOBE85.finditer(text):
        plain = _decode85(base64.a85decode, match.group(1), letters_share)
        if plain is not None:
            out.append(("ascii85", plain, match.start(), match.end()))
    if not out and _MAYBE_BASE85.search(text):
        for match in _BASE85_RUN.finditer(text):
            raw = match.group(0)
            for source, decode in (("ascii85", base64.a85decode), ("base85", base64.b85decode)):
                if source == "base85" and not _B85_ALPHABET.issuperset(raw.rstrip(".,")):
                    continue
                plain = _decode85(decode, raw, letters_share)
                if plain is not None:
                    out.append((source, plain, match.start(), match.end()))
                    break
    for match in _UUENCODED.finditer(text) if "begin " in text else ():
        try:
            data = b"".join(binascii.a2b_uu(line) for line in match.group(1).splitlines())
        except binascii.Error:
            continue
        plain = _printable(data, letters_share)
        if plain is not None:
            out.append(("uuencode", plain, match.start(), match.end()))
    return out


def _decode85(decode: Callable[[str], bytes], raw: str, letters_share: float) -> str | None:
    """``raw`` decoded by ``decode`` when it reads as text, else ``None``; a sentence's
    full stop or comma after the run is tried without."""
    for candidate in dict.fromkeys((raw, raw.rstrip(".,"))):
        try:
            plain = _printable(decode(candidate), letters_share)
        except ValueError:  # binascii.Error is one
            continue
        if plain is not None:
            return plain
    return None


#: The NATO spelling alphabet (and the spellings people also use): a word per letter.
_NATO = {word: word[0] for word in (
    "alfa", "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india",
    "juliett", "juliet", "kilo", "lima", "mike", "november", "oscar", "papa", "quebec", "romeo",
    "sierra", "tango", "uniform", "victor", "whiskey", "whisky", "xray", "x-ray", "yankee",
    "zulu")}
_NATO_WORD = "(?:" + "|".join(re.escape(w) for w in sorted(_NATO, key=len, reverse=True)) + ")"
# Eight or more code words in a row, letters apart by spaces or commas, words by a slash, a
# bar, a line break, two spaces or the word "space" (bracketed or not: "(space)", found in a
# fourteenth black-box pass); RE2 finds whether a text holds one (most hold none).
_NATO_SPACE = r"[ \t]*[(\[<{]?space[)\]>}]?[ \t]*"
_NATO_GAP = rf"(?:[ \t]*[/|,\n][ \t]*|\s+{_NATO_SPACE}|\s+)"
_NATO_RUN = re.compile(rf"(?i)\b{_NATO_WORD}(?:{_NATO_GAP}{_NATO_WORD}){{7,}}\b")
_MAYBE_NATO_SOURCE = rf"\b{_NATO_WORD}(?:{_NATO_GAP}{_NATO_WORD}){{7}}\b"
_MAYBE_NATO = re2.compile(f"(?i){_MAYBE_NATO_SOURCE}")
#: Any of _MAYBE_ENCODED, _MAYBE_BASE85, _MAYBE_NATO, a punycode label or a uuencoded block's
#: start in one scan: a text that matches none (most) skips every run reader (a scan each cost
#: the rules tier a fifth of its speed). A one-pattern RE2 set: it answers whether, with half
#: the overhead of a search that builds a match object.
_MAYBE_RUN = re2.Set.SearchSet(re2.Options())
_MAYBE_RUN.Add(f"{_MAYBE_ENCODED.pattern}|{_MAYBE_BASE85.pattern}"
               f"|(?i:{_MAYBE_NATO_SOURCE})|(?i:xn--)|begin ")
_MAYBE_RUN.Compile()
#: A punycode label of an internationalised domain name (``xn--bcher-kva`` is "bücher").
_PUNYCODE = re.compile(r"(?i)(?<![\w-])xn--([a-z0-9-]+)")


def _spelled_runs(text: str, letters_share: float) -> list[tuple[str, str, int, int]]:
    """Words spelled in the NATO alphabet, and punycode labels, read as the text they spell
    (found in a black-box pass: a request spelled ``Bravo Oscar Mike Bravo`` or written as
    labels ``xn--build-`` passed)."""
    out: list[tuple[str, str, int, int]] = []
    if _MAYBE_NATO.search(text):
        for match in _NATO_RUN.finditer(text):
            words = re.split(rf"(?i)[ \t]*[/|\n][ \t]*|\s+{_NATO_SPACE}|\s{{2,}}",
                             match.group(0))
            plain = " ".join("".join(_NATO[w.lower()] for w in re.split(r"[\s,]+", word) if w)
                             for word in words)
            out.append(("nato", plain, match.start(), match.end()))
    labels = list(_PUNYCODE.finditer(text)) if "xn--" in text.lower() else []
    if labels:
        pieces, at = [], labels[0].start()
        for match in labels:
            try:
                word = match.group(1).encode("ascii").decode("punycode")
            except UnicodeError:
                word = match.group(0)
            pieces += [text[at:match.start()], word]
            at = match.end()
        read = _printable("".join(pieces).encode(), letters_share)
        if read is not None:
            out.append(("punycode", read, labels[0].start(), labels[-1].end()))
    return out


def _base64_runs(text: str, letters_share: float) -> list[tuple[str, str, int, int]]:
    """Base64 (and base58) runs of ``text`` that decode to readable text: whole, in short
    lines, in groups of four and a word at a time."""
    out: list[tuple[str, str, int, int]] = []
    for match in _B64.finditer(text):
        raw = match.group(0)
        if raw.isalpha() and (raw.islower() or raw.isupper()):
            continue
        # as sent, then written backwards (the padding leads: ``==wPl12b...``), then base58
        plain = (base64_text(raw, letters_share) or base64_text(raw[::-1], letters_share))
        source = "base64"
        if plain is None and _B58_ALPHABET.issuperset(raw):
            plain, source = _base58_text(raw, letters_share), "base58"
        if plain is not None:
            out.append((source, plain, match.start(), match.end()))
    for match in itertools.chain(_B64_LINES.finditer(text), _B64_GROUPS.finditer(text)):
        parts = match.group(0).split()
        # as matched, then without a first or last piece that is a word of the prose beside
        for kept in (parts, parts[1:], parts[:-1], parts[1:-1]):
            plain = base64_text("".join(kept), letters_share) if len(kept) >= 3 else None
            if plain is not None:
                out.append(("base64", plain, match.start(), match.end()))
                break
    for match in _B64_WORDS.finditer(text) if _B64_PADDED.search(text) else ():
        words = [base64_text(word, letters_share) for word in match.group(0).split()]
        if all(words):
            out.append(("base64", " ".join(w for w in words if w), match.start(), match.end()))
    return out


def _byte_runs(text: str, letters_share: float) -> list[tuple[str, str, int, int]]:
    """Base64, hex and base32 runs of ``text`` that decode to readable text."""
    out = _base64_runs(text, letters_share)
    for match in _HEX.finditer(text):
        digits = "".join(_HEX_DIGITS.findall(match.group(0).replace("\\x", " ").replace("0x", " ")))
        plain = _printable(bytes.fromhex(digits), letters_share) if len(digits) % 2 == 0 \
            else None
        if plain is not None:
            out.append(("hex", plain, match.start(), match.end()))
    for match in _B32.finditer(text):
        raw = match.group(0).rstrip("=")
        try:
            data = base64.b32decode(raw + "=" * (-len(raw) % 8))
        except (binascii.Error, ValueError):
            continue
        plain = _printable(data, letters_share)
        if plain is not None:
            out.append(("base32", plain, match.start(), match.end()))
    return out


def base64_text(raw: str, letters_share: float = 0.5) -> str | None:
    """``raw`` read as base64 (URL-safe too, padding optional) when it decodes to text."""
    try:
        data = base64.b64decode(raw + "=" * (-len(raw) % 4), altchars=b"-_"
                                if ("-" in raw or "_" in raw) else None, validate=True)
    except (binascii.Error, ValueError):
        return None
    return _printable(data, letters_share)


#: Bitcoin's base58 alphabet: base64's letters and digits without 0, O, I and l.
_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_ALPHABET = frozenset(_B58)
#: The longest base58 run read (its decoding is quadratic in its length).
_B58_MAX = 4096


def _base58_text(raw: str, letters_share: float) -> str | None:
    """``raw`` read as base58 (found in a twelfth black-box pass: a request in base58 passed,
    0.18-0.33) when it decodes to text; each leading ``1`` is a zero byte."""
    if len(raw) > _B58_MAX:
        return None
    number = 0
    for char in raw:
        number = number * 58 + _B58.index(char)
    zeros = len(raw) - len(raw.lstrip("1"))
    return _printable(b"\0" * zeros + number.to_bytes((number.bit_length() + 7) // 8, "big"),
                      letters_share)


def _code_runs(text: str, letters_share: float) -> list[tuple[str, str, int, int]]:
    """Bits run together, numbers read as character codes, and Morse, decoded to readable
    text (found in a black-box pass: a request in decimal or octal codes went through)."""
    out: list[tuple[str, str, int, int]] = []
    for match in _CHAR_CALLS.finditer(text):
        codes = [int(n) for n in re.findall(r"\(\s*([0-9]+)", match.group(0))]
        plain = _printable("".join(map(chr, codes)).encode("utf-8", "replace"), letters_share) \
            if max(codes) < 0x110000 else None
        if plain is not None:
            out.append(("decimal", plain, match.start(), match.end()))
    for match in _BITS.finditer(text):
        raw = match.group(0)
        for width in (8, 7):
            if len(raw) % width:
                continue
            bits = _printable(bytes(int(raw[i:i + width], 2) for i in range(0, len(raw), width)),
                              letters_share)
            if bits is not None:
                out.append(("binary", bits, match.start(), match.end()))
                break
    for match in _CODES.finditer(text):
        found = _char_codes(match.group(0), letters_share)
        if found is not None:
            out.append((found[0], found[1], match.start(), match.end()))
    folded = text.translate(_MORSE_FOLD)  # the same length: spans hold
    for match in _MORSE.finditer(folded):
        words = re.split(r" {3}| ?/ ?", match.group(0))
        morse = " ".join("".join(_MORSE_LETTERS.get(code, "\ufffd") for code in word.split())
                         for word in words)
        if "\ufffd" not in morse and _printable(morse.encode(), letters_share) is not None:
            out.append(("morse", morse, match.start(), match.end()))
    return out


#: Letters written as numbers: (source, the number for "a", +1 or -1 for each next letter).
_LETTER_NUMBERS = (("a1z26", 1, 1), ("a0z25", 0, 1), ("z1a26", 26, -1))
#: Share of common English words a variant of A1Z26 must read with (a list of decimals read
#: as A=0 gave ``cf ea hf ba if``: 0.2).
_VARIANT_ENGLISH = 0.3


#: Fewest letters an A1Z26 run with no word gaps must spell to be cut into words.
_RUN_TOGETHER = 12


def _a1z26_run_together(numbers: list[int]) -> tuple[str, str] | None:
    """A1Z26 with no gap between words (``8, 15, 23, 4, 15, ...``: found in a tenth black-box
    pass, 0.02-0.09), cut into words of the model's vocabulary when it can be, most of its
    letters in words of three letters or more (a list of small numbers spells no words)."""
    from bastion.classify._variants import segment  # noqa: PLC0415 - imports this module

    read = segment("".join(chr(96 + n) for n in numbers))
    if read is None or sum(len(w) for w in read.split() if len(w) >= 3) < 0.6 * len(numbers):
        return None
    return "a1z26", read


def _char_codes(run: str, letters_share: float) -> tuple[str, str] | None:
    """A run of numbers read as one character code each, in the first base they all fit that
    gives readable text: binary (eight or seven digits each), decimal, octal, then A1Z26 (1 to
    26 for a to z, words apart by spaces or slashes; or A=0, or Z=1, whichever reads best):
    ``(source, text)``. Read for its words
    (``letters_share`` above 0), the text must hold a space too: a list of scores or ids
    between 65 and 122 spells letters, but seldom words."""
    numbers = re.findall(r"[0-9]+", run)
    for source, base in (("binary", 2), ("decimal", 10), ("octal", 8)):
        if base == 2 and (len({len(n) for n in numbers}) != 1
                          or len(numbers[0]) not in (7, 8)):
            continue  # every number eight bits long, or every one seven
        try:
            data = bytes(int(n, base) for n in numbers)
        except ValueError:  # a digit the base lacks, or a code past 255
            continue
        plain = _printable(data, letters_share)
        if plain is not None and (" " in plain.strip() or not letters_share):
            return source, plain
    if not letters_share:
        return None
    # letters joined by dashes: words apart by any space; letters apart by a space: by two
    gaps = r"\s*/\s*|\s+" if re.search(r"[0-9][-.,][0-9]", run) else r"\s*/\s*|\s{2,}"
    words = [[int(n) for n in re.findall(r"[0-9]+", word)]
             for word in re.split(gaps, run.strip()) if word]
    if len(words) == 1 and len(words[0]) >= _RUN_TOGETHER and all(1 <= n <= 26 for n in words[0]):
        return _a1z26_run_together(words[0])
    if len(words) < 2:
        return None
    from bastion.classify._language import englishness  # noqa: PLC0415 - imports this module

    # A1Z26 and its variants (A=0, or the alphabet backwards: Z=1), the one that reads best;
    # A1Z26 where none reads better
    found = [(englishness(plain), -rank, source, plain)
             for rank, (source, first, step) in enumerate(_LETTER_NUMBERS)
             if all(0 <= (n - first) * step < 26 for word in words for n in word)
             for plain in [" ".join("".join(chr(97 + (n - first) * step) for n in word)
                                    for word in words)]]
    # a variant must read as some English: numbers 0 to 26 are common, words in them are not
    found = [f for f in found if f[2] == "a1z26" or f[0] >= _VARIANT_ENGLISH]
    return max(found)[2:] if found else None
