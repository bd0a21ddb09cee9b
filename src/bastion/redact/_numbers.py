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
    """True when an IBAN (spaces allowed) passes the ISO 7064 mod-97 check."""
    compact = candidate.replace(" ", "").upper()
    if not 15 <= len(compact) <= 34:
        return False
    moved = compact[4:] + compact[:4]
    return int("".join(str(int(ch, 36)) for ch in moved)) % 97 == 1


# Digits in any grouping people write: spaces (also no-break and thin), dashes of any kind,
# dots, slashes; Luhn then decides.
_CARD = re.compile(r"(?<!\d)(?:\d[ \t.\-/\u00a0\u2009\u202f\u2010-\u2015]{0,3}){12,18}\d(?!\d)")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b")


def cards(text: str) -> Iterator[Entity]:
    """Payment card numbers: 13 to 19 digits that pass Luhn."""
    for m in _CARD.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        if 13 <= len(digits) <= 19 and luhn_ok(digits):
            yield Entity("CARD", m.start(), m.end())


def ibans(text: str) -> Iterator[Entity]:
    """IBANs that pass the mod-97 check."""
    for m in _IBAN.finditer(text):
        if iban_ok(m.group()):
            yield Entity("IBAN", m.start(), m.end())


# AAA-GG-SSSS with the same separator twice: a dash of any kind, a space, a dot or a slash.
_SSN = re.compile(r"(?<!\d)(\d{3})([\-\u2010-\u2015 \u00a0./])(\d{2})\2(\d{4})(?!\d)")
# Nine bare digits are an SSN only when the text says so, close by.
_SSN_BARE = re.compile(r"(?<!\d)(\d{3})(\d{2})(\d{4})(?!\d)")
_SSN_CONTEXT = re.compile(r"(?i)\b(?:ssns?\b|ss ?#|ss no\b|social[\s-]*security\b|soc\.? ?sec\b)")
_SSN_BEFORE, _SSN_AFTER = 40, 20


def ssn_ok(area: str, group: str, serial: str) -> bool:
    """True when the parts of an SSN can have been issued: the SSA never issues area 000, 666
    or 900-999 (ITINs and test numbers), group 00 or serial 0000."""
    return (int(area) not in (0, 666) and int(area) < 900 and int(group) != 0
            and int(serial) != 0)


def ssns(text: str) -> Iterator[Entity]:
    """US social security numbers: AAA-GG-SSSS (or spaced, dotted, slashed) anywhere, nine
    bare digits only with "SSN" or "social security" within a few words."""
    for m in _SSN.finditer(text):
        sep = m.group(2)
        inside_longer = (m.start() >= 2 and text[m.start() - 1] == sep
                         and text[m.start() - 2].isdigit()) or \
            (text[m.end():m.end() + 1] == sep and text[m.end() + 1:m.end() + 2].isdigit())
        if not inside_longer and ssn_ok(m.group(1), m.group(3), m.group(4)):
            yield Entity("SSN", m.start(), m.end())
    for m in _SSN_BARE.finditer(text):
        near = text[max(0, m.start() - _SSN_BEFORE):m.start()] + " " + \
            text[m.end():m.end() + _SSN_AFTER]
        if ssn_ok(*m.groups()) and _SSN_CONTEXT.search(near):
            yield Entity("SSN", m.start(), m.end())
