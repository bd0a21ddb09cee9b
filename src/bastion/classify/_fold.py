"""Character folding: what each character of a text reads as, one at a time.

:func:`~bastion.classify._normalize.normalize` reads a text through these folds before any
pattern sees it: invisible, bidi-control and tag characters dropped (the ASCII a tag run
carries, and the bytes a run of variation selectors stands for, kept as hidden text),
compatibility forms, letter-like symbols, Braille and confusable letters read as the ASCII
letter they show, control characters as a space, and leet symbols inside words as letters.
Each fold keeps an offset per character, so evidence spans still point into the text the user
sent. The letter ciphers (rot13, rot47, a Caesar shift) live here too: like the folds, each is
one table applied character by character.

Apart from the payload decoders (:mod:`bastion.classify._decode`), which read runs of
characters, not characters, and from what assembles both (:mod:`bastion.classify._normalize`).
"""

from __future__ import annotations

import json
import re
import string
import unicodedata
from functools import cache
from importlib import resources

#: Every character Python's ``\s`` matches in a str, as the body of an RE2 class: RE2's own
#: ``\s`` is ASCII only, and a pattern moved to RE2 (linear in the text, where Python's
#: backtracking may read a run again from each of its characters) must read spaces as the
#: ``re`` pattern it replaces did (``tests/test_decode_linear.py`` checks it).
PY_SPACE = (r"\t-\r\x{1c}-\x{20}\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}"
            r"\x{202f}\x{205f}\x{3000}")

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
#: Read as a run of word characters (four or more) holding a letter, symbols, a letter: one
#: pattern that said both (``(?=X{4})X*[A-Za-z][0-9@$!|+]+[A-Za-z]``) read a long word again
#: from each of its characters (7 s for 20,000 letters and a digit, quadratic).
_DISGUISED_RUN = re.compile(r"[A-Za-z0-9@$!|+]{4,}")
_DISGUISED_CORE = re.compile(r"[A-Za-z][0-9@$!|+]+[A-Za-z]")
_HEX_WORD = re.compile(r"[0-9A-Fa-f]+")
#: What follows the local part and first label of an email address (``john@example``
#: ``.com``): no disguise.
_DOMAIN_AFTER = re.compile(r"(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
#: ``_SHIFTS[s]`` moves each ASCII letter ``s`` places on along the alphabet, case kept.
_SHIFTS = tuple(str.maketrans(string.ascii_letters, "".join(
    a[s:] + a[:s] for a in (string.ascii_lowercase, string.ascii_uppercase)))
    for s in range(26))


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


@cache
def _letter_symbol(char: str) -> str | None:
    """The ASCII letter a symbol named as a Latin letter stands for (see
    :data:`_LETTER_NAME`), else ``None``."""
    match = _LETTER_NAME.search(unicodedata.name(char, ""))
    return match.group(1).lower() if match else None


def _disguised(word: str) -> bool:
    """Whether ``word`` has a leet symbol between two letters in a run of four or more
    word characters (:data:`_DISGUISED_RUN`, :data:`_DISGUISED_CORE`), in time linear in it."""
    return any(_DISGUISED_CORE.search(run) for run in _DISGUISED_RUN.findall(word))


def _fold_leet(text: str) -> tuple[str, bool, bool]:
    """``text`` with its words' leet symbols read as letters, whether any was, and whether a
    word looks disguised (:func:`_disguised`), not merely written with digits."""
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
            _disguised(word) and not _HEX_WORD.fullmatch(word)
            and text[match.start() - 1:match.start()] != "\\"
            and not ("@" in word and _DOMAIN_AFTER.match(text, match.end())))
        return word.translate(LEET)

    # Length is unchanged by the fold, so the offset map stays valid.
    return _LEET_RUN.sub(repl, text), changed, disguised
