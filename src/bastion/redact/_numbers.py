"""Numbers with a checksum or a fixed shape: payment cards (Luhn), IBANs (ISO 7064 mod-97)
and US social security numbers (the SSA's ranges)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from bastion.redact._entity import Entity


def luhn_ok(digits: str) -> bool:
    """True when a digit string passes the Luhn checksum (payment card numbers)."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def iban_ok(candidate: str) -> bool:
    """True when an IBAN (any case; spaces, dots or dashes between groups allowed) passes the
    ISO 7064 mod-97 check."""
    compact = _IBAN_SEPARATORS.sub("", candidate).upper()
    if not 15 <= len(compact) <= 34 or not (compact.isascii() and compact.isalnum()):
        return False
    moved = compact[4:] + compact[:4]
    return int("".join(str(int(ch, 36)) for ch in moved)) % 97 == 1


# Card digits in any grouping people write. Separators between two digits: up to four of
# spaces (also no-break and thin), dashes of any kind, dots, slashes and backslashes
# (strong: a run of digits joined only by these is one number), or of any other character
# that is no letter or digit: punctuation, symbols, line breaks (weak: they also join items of
# a list, so such a run only counts in a card's own grouping: "(4111)(1111)(1111)(1111)",
# "'4111', '1111', ..." and "[4111] [1111] ..." passed as four numbers, and later "4111!1111",
# "4111^1111", "4111@1111", one listed mark at a time). A currency sign or a per cent sign
# joins groups only alone between two digits ("4111$1111$1111$1111"): beside a space it
# marks an amount ("$1200 $1500 $2000 $3400" is a price list). Invisible characters
# (zero-width, joiners, bidi marks) are ignored wherever they are.
_INVISIBLE = ("\u00ad\u034f\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069"
              "\ufe00-\ufe0f\ufeff")
# (the backslash and the dash escaped for the regex class)
_STRONG = " \t.\\\\\\-/\u00a0\u2000-\u200a\u202f\u2010-\u2015\u2212\u3000\uff0d"
# Currency signs (Unicode category Sc) and per cent, per mille and per ten thousand signs.
_AMOUNT = ("$\u00a2-\u00a5\u058f\u060b\u07fe\u07ff\u09f2\u09f3\u09fb\u0af1\u0bf9\u0e3f"
           "\u17db\u20a0-\u20c0\ua838\ufdfc\ufe69\uff04\uffe0\uffe1\uffe5\uffe6"
           "%\u066a\u2030\u2031\ufe6a\uff05")
_WEAK = rf"(?:_|[^\w{_INVISIBLE}{_STRONG}{_AMOUNT}])"
_GAP = (rf"[{_INVISIBLE}]*(?:(?:[{_STRONG}]|{_WEAK})[{_INVISIBLE}]*){{0,4}}"
        rf"|[{_INVISIBLE}]*[{_AMOUNT}][{_INVISIBLE}]*")
_DIGIT_RUN = re.compile(rf"(?<!\d)\d(?:(?:{_GAP})\d)*")
_GROUP = re.compile(rf"\d(?:[{_INVISIBLE}]*\d)*")  # digits between visible separators
_INVISIBLES = re.compile(rf"[{_INVISIBLE}]+")
_WEAK_GAP = re.compile(rf"[^\d{_INVISIBLE}{_STRONG}]")


def cards(text: str) -> Iterator[Entity]:
    """Payment card numbers: 13 to 19 digits that pass Luhn.

    A run of digits joined by strong separators is one number: the whole run is a card when it
    passes. Otherwise (a weak separator, or other numbers beside the card, as in "card 5555
    5555 5555 4444 12/27") the run's groups are searched for a card in a card's grouping.
    """
    for m in _DIGIT_RUN.finditer(text):
        if m.end() - m.start() < 13:
            continue  # too short to hold 13 digits
        groups = [(g.start() + m.start(), g.end() + m.start(), _INVISIBLES.sub("", g.group()))
                  for g in _GROUP.finditer(m.group())]
        if not _WEAK_GAP.search(m.group()) and _is_card("".join(d for _, _, d in groups)):
            yield Entity("CARD", m.start(), m.end())
        else:
            yield from _cards_within(groups)


# A number read out digit by digit ("four one one one, one one one one ..."), digit words
# mixed with digits too ("4111 one one one one 1111 1111"): a run of such tokens with at
# least one digit word (a run of digits alone is the other detectors'). Which numbers it
# spells is for the detector to say: a card (13 to 19 digits passing Luhn), a phone number,
# an SSN beside the word.
_DIGIT_WORDS = {"zero": "0", "oh": "0", "one": "1", "two": "2", "three": "3", "four": "4",
                "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9"}
_DIGIT_WORD = "(?:" + "|".join(_DIGIT_WORDS) + ")"
_DIGIT_TOKEN = rf"(?:{_DIGIT_WORD}|\d{{1,4}})"
SPELLED_RUN = re.compile(rf"(?i)(?<![\w-]){_DIGIT_TOKEN}(?:[\s,.;:\-]{{1,3}}{_DIGIT_TOKEN})+"
                         r"(?![\w-])")
_TOKEN = re.compile(r"[a-z]+|\d+", re.IGNORECASE)


def spelled_numbers(text: str, fewest: int, most: int) -> Iterator[tuple[re.Match[str], str]]:
    """Runs of digit words (and digits) in ``text`` that spell ``fewest`` to ``most`` digits,
    with the digits they spell."""
    for m in SPELLED_RUN.finditer(text):
        tokens = _TOKEN.findall(m.group())
        if all(t.isdigit() for t in tokens):
            continue
        digits = "".join(t if t.isdigit() else _DIGIT_WORDS[t.lower()] for t in tokens)
        if fewest <= len(digits) <= most:
            yield m, digits


def spelled_cards(text: str) -> Iterator[Entity]:
    """Card numbers spelled out in English digit words (digits mixed in too), 13 to 19
    digits passing Luhn."""
    for m, digits in spelled_numbers(text, 13, 19):
        if _is_card(digits):
            yield Entity("CARD", m.start(), m.end())


# Letters that look like digits, as people type a number to dodge a filter: O for 0, l and
# I for 1 ("4lll llll llll llll", "5555 5555 5555 4444" with O for 0 where it has one).
_LOOKALIKES = str.maketrans("OoIl", "0011")
# A word of digits and such letters only (a longer one is no group of a card).
_LOOKALIKE_WORD = re.compile(r"(?<![^\W\d_])[0-9OoIl]{1,19}(?![^\W\d_])")
_LOOKALIKE_LETTER = re.compile(r"[OoIl]")


def lettered_cards(text: str) -> Iterator[Entity]:
    """Card numbers with letters written for digits (see :data:`_LOOKALIKES`) in words of
    digits and such letters only: found as :func:`cards` finds them once read as digits, with
    one real digit at least ("llll llll llll llll" is no number). A card written with no such
    letter is :func:`cards`' to find."""
    if not any(char.isdigit() for char in text) or not _LOOKALIKE_LETTER.search(text):
        return
    read = _LOOKALIKE_WORD.sub(lambda m: m.group(0).translate(_LOOKALIKES), text)
    if read == text:
        return
    for entity in cards(read):
        written = text[entity.start:entity.end]
        if _LOOKALIKE_LETTER.search(written) and any(char.isdigit() for char in written):
            yield entity


def _is_card(digits: str) -> bool:
    return 13 <= len(digits) <= 19 and luhn_ok(digits)


# How cards are printed in groups: 16 digits 4-4-4-4, 19 digits 4-4-4-4-3, American Express
# 4-6-5, Diners 4-6-4. A block of 13 to 19 digits is a card number too.
_CARD_GROUPINGS = frozenset({(4, 4, 4, 4), (4, 4, 4, 4, 3), (4, 6, 5), (4, 6, 4)})
_LONGEST_GROUPING = max(len(g) for g in _CARD_GROUPINGS)


def _cards_within(groups: list[tuple[int, int, str]]) -> Iterator[Entity]:
    """Cards among a run's groups: every stretch in a card's grouping that passes Luhn,
    overlapping stretches merged (masking a neighbouring number too is better than leaving a
    group of the card in clear when a stretch with the neighbour passes Luhn by chance)."""
    spans: list[tuple[int, int]] = []
    sizes = [len(d) for _, _, d in groups]
    for i, size in enumerate(sizes):
        if _is_card(groups[i][2]):
            spans.append((groups[i][0], groups[i][1]))
        if size != 4:
            continue  # every grouping starts with four digits
        spans.extend((groups[i][0], groups[j][1])
                     for j in range(i + 1, min(len(groups), i + _LONGEST_GROUPING))
                     if tuple(sizes[i:j + 1]) in _CARD_GROUPINGS
                     and luhn_ok("".join(d for _, _, d in groups[i:j + 1])))
    for start, end in _merged(spans):
        yield Entity("CARD", start, end)


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if out and start < out[-1][1]:
            out[-1] = (out[-1][0], max(end, out[-1][1]))
        else:
            out.append((start, end))
    return out


# IBANs in groups of four, separated by a space, dot or dash, or not at all; any case.
_IBAN = re.compile(r"\b[A-Za-z]{2}[0-9]{2}(?:[ .\-\u00a0]?[A-Za-z0-9]{4}){2,7}"
                   r"(?:[ .\-\u00a0]?[A-Za-z0-9]{1,3})?\b")
_IBAN_SEPARATORS = re.compile(r"[ .\-\u00a0]")
# The length of each country's IBAN (the SWIFT IBAN registry). Only IBANs written in lower
# or mixed case must match it: ordinary words and ids are lower case, and one in 97 of them
# that looks like an IBAN would pass mod-97 alone.
_IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27,
    "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27,
    "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HN": 28, "HR": 21, "HU": 28,
    "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28,
    "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22,
    "MK": 19, "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23,
    "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24,
    "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28,
    "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}


def ibans(text: str) -> Iterator[Entity]:
    """IBANs that pass the mod-97 check; lower- or mixed-case ones must also have their
    country's length. A candidate that fails is cut back a group at a time, so a word after
    an IBAN ("BE68 5390 0754 7034 THIS") does not hide it."""
    for m in _IBAN.finditer(text):
        ends = [sep.start() for sep in _IBAN_SEPARATORS.finditer(m.group())][::-1]
        for end in [len(m.group()), *ends]:
            candidate = m.group()[:end]
            if iban_ok(candidate) and (candidate.isupper() or len(
                    _IBAN_SEPARATORS.sub("", candidate)) == _IBAN_LENGTHS.get(
                    candidate[:2].upper())):
                yield Entity("IBAN", m.start(), m.start() + end)
                break


# AAA-GG-SSSS with the same separator twice: a space, or a dash of any kind, a dot or a
# slash with up to three spaces or line breaks around it ("512 - 84 - 3301", a number
# wrapped after a dash).
_SSN_SEP = r"(?:\s{0,3}[\-\u2010-\u2015./]\s{0,3}|[ \u00a0])"
_SSN = re.compile(rf"(?<!\d)(\d{{3}})({_SSN_SEP})(\d{{2}})({_SSN_SEP})(\d{{4}})(?!\d)")
_SSN_AFTER_DIGIT = re.compile(rf"\d({_SSN_SEP})\Z")
_SSN_BEFORE_DIGIT = re.compile(rf"({_SSN_SEP})\d")
# Nine bare digits are an SSN only when the text says so, close by.
_SSN_BARE = re.compile(r"(?<!\d)(\d{3})(\d{2})(\d{4})(?!\d)")
_SSN_CONTEXT = re.compile(r"(?i)\b(?:ssns?\b|ss ?#|ss no\b|social[\s-]*security\b|soc\.? ?sec\b)")
_SSN_BEFORE, _SSN_AFTER = 40, 20


def ssn_ok(area: str, group: str, serial: str) -> bool:
    """True when the parts of an SSN can have been issued: the SSA never issues area 000, 666
    or 900-999 (ITINs and test numbers), group 00 or serial 0000."""
    return (int(area) not in (0, 666) and int(area) < 900 and int(group) != 0
            and int(serial) != 0)


def _ssn_context(text: str, start: int, end: int) -> bool:
    """Whether "SSN" or "social security" is written within a few words of ``[start, end)``."""
    near = text[max(0, start - _SSN_BEFORE):start] + " " + text[end:end + _SSN_AFTER]
    return _SSN_CONTEXT.search(near) is not None


def spelled_ssns(text: str) -> Iterator[Entity]:
    """SSNs read out digit by digit ("five one two, eight four, three three zero one"), nine
    digits beside the word, as nine bare digits are."""
    for m, digits in spelled_numbers(text, 9, 9):
        if ssn_ok(digits[:3], digits[3:5], digits[5:]) and _ssn_context(text, *m.span()):
            yield Entity("SSN", m.start(), m.end())


def ssns(text: str) -> Iterator[Entity]:
    """US social security numbers: AAA-GG-SSSS (or spaced, dotted, slashed) anywhere, nine
    bare digits only with "SSN" or "social security" within a few words."""
    for m in _SSN.finditer(text):
        mark = m.group(2).strip()
        if m.group(4).strip() != mark:
            continue  # two different separators: not one number
        before = _SSN_AFTER_DIGIT.search(text, max(0, m.start() - 8), m.start())
        after = _SSN_BEFORE_DIGIT.match(text, m.end())
        inside_longer = any(part is not None and part.group(1).strip() == mark
                            for part in (before, after))
        if not inside_longer and ssn_ok(m.group(1), m.group(3), m.group(5)):
            yield Entity("SSN", m.start(), m.end())
    for m in _SSN_BARE.finditer(text):
        if ssn_ok(*m.groups()) and _ssn_context(text, *m.span()):
            yield Entity("SSN", m.start(), m.end())
