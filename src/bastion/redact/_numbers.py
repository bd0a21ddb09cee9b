"""Numbers with a checksum or a fixed shape: payment cards (Luhn), IBANs (ISO 7064 mod-97)."""

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
