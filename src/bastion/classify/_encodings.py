"""Readers of encoded runs, one per family: base64 (and base58), hex, base32, base85 and
uuencode; character codes (binary, decimal, octal, A1Z26, ``chr()`` calls) and Morse; the NATO
alphabet and punycode.

Each reader finds the runs of its family in a text and keeps those that decode to readable
text (:func:`_printable`), as ``(source, decoded, start, end)``;
:func:`~bastion.classify._decode.decode_runs` calls them once one RE2 scan
(:data:`_MAYBE_RUN`) says a text may hold a run at all. Every family is a pattern and a
decoder, and together they are most of the payload code: apart from the whole-text readings
(escapes, entities, quoted-printable, URLs: :mod:`bastion.classify._decode`), each reads on
its own.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import re
from collections.abc import Callable

import re2

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


def morse(text: str) -> str:
    """``text`` in Morse code: letters apart by a space, words by `` / `` (characters Morse
    has no code for are dropped): for the red team's converter."""
    codes = {letter: code for code, letter in _MORSE_LETTERS.items()}
    return " / ".join(" ".join(codes[c] for c in word.lower() if c in codes)
                      for word in text.split())


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
    from bastion.classify._variants import segment  # noqa: PLC0415 - a cycle, via _normalize

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
    from bastion.classify._language import englishness  # noqa: PLC0415 - a cycle, via _normalize

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
