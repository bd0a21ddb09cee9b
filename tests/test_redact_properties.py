"""Properties of redaction over generated texts: what the detectors report is exactly what is
masked, nothing of a masked value survives, and streamed masking equals masking the whole.

Texts are generated from a fixed seed (no extra test dependency), mixing values of every kind
in many formats with filler words, stray numbers and the words "at", "dot" and digit names.
"""

from __future__ import annotations

import itertools
import random
import re
from collections.abc import Callable

import pytest

from bastion.redact import Detectors, Entity, StreamMasker, Vault, luhn_ok

SEED, TEXTS = 20261201, 400
FILLER = ("the", "card", "number", "is", "at", "dot", "please", "store", "and", "one", "four",
          "ref", "order", "(at)", "com", "my", "to", "of", ",", ".", ":", "-", "\n")
CARD_SEPARATORS = (" ", "-", ".", "/", "_", ",", ":", "+", "|", "\n", "\u00a0", "\u2013", "")
INVISIBLE = ("\u200b", "\u200c", "\u2060", "\ufeff", "\u00ad")


def _card(rng: random.Random) -> str:
    amex = rng.random() < 0.25
    body = ("37" if amex else rng.choice("456")) + "".join(
        rng.choice("0123456789") for _ in range(12 if amex else 14))
    digits = body + next(c for c in "0123456789" if luhn_ok(body + c))
    if rng.random() < 0.15:
        return rng.choice(INVISIBLE).join(digits)
    sizes = (4, 6, 5) if amex else (4, 4, 4, 4)
    groups, at = [], 0
    for size in sizes:
        groups.append(digits[at:at + size])
        at += size
    return rng.choice(CARD_SEPARATORS).join(groups)


def _ssn(rng: random.Random) -> str:
    area = rng.choice([n for n in range(1, 900) if n != 666])
    parts = (f"{area:03d}", f"{rng.randint(1, 99):02d}", f"{rng.randint(1, 9999):04d}")
    return rng.choice("- ./").join(parts)


def _iban(rng: random.Random) -> str:
    bban = "".join(rng.choice("0123456789") for _ in range(18))
    check = 98 - int(bban + "131400") % 97  # DE = 13 14, check digits 00
    compact = f"DE{check:02d}{bban}"
    if rng.random() < 0.5:
        compact = compact.lower()
    sep = rng.choice(["", " ", "-", "."])
    return sep.join(compact[i:i + 4] for i in range(0, len(compact), 4))


def _email(rng: random.Random) -> str:
    local = rng.choice(["jane.doe", "bob", "x_y+z", "ann99"])
    domain = rng.choice(["example", "mail-host", "corp7"])
    tld = rng.choice(["com", "org", "io", "co.uk"])
    form = rng.randrange(4)
    if form == 0:
        return f"{local}@{domain}.{tld}"
    if form == 1:
        return f"{local} [at] {domain} [dot] {tld.replace('.', ' [dot] ')}"
    if form == 2:
        return f"{local}(at){domain}.{tld}"
    return f"{local} at {domain} dot {tld.replace('.', ' dot ')}"


def _phone(rng: random.Random) -> str:
    return rng.choice(["+1 650-253-0000", "+44 20 7946 0958", "(650) 253-0000",
                       "+33 1 42 68 53 00"])


def _secret(rng: random.Random) -> str:
    return "sk-" + "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789")
                           for _ in range(rng.randint(20, 40)))


KINDS: dict[str, Callable[[random.Random], str]] = {
    "CARD": _card, "SSN": _ssn, "IBAN": _iban, "EMAIL": _email, "PHONE": _phone,
    "SECRET": _secret,
}


def _text(rng: random.Random, *, stray_numbers: bool) -> tuple[str, list[tuple[str, str]]]:
    """A generated text and the values planted in it, each with words on both sides."""
    parts: list[str] = []
    planted: list[tuple[str, str]] = []
    for _ in range(rng.randint(1, 4)):
        parts.extend(rng.choice(FILLER) for _ in range(rng.randint(1, 6)))
        if stray_numbers and rng.random() < 0.5:
            parts.append(str(rng.randint(0, 99999)))
        kind = rng.choice(list(KINDS))
        value = KINDS[kind](rng)
        planted.append((kind, value))
        parts.extend(("please", value, "thanks"))
    return " ".join(parts), planted


def _texts(stray_numbers: bool) -> list[tuple[str, list[tuple[str, str]]]]:
    rng = random.Random(SEED + stray_numbers)
    return [_text(rng, stray_numbers=stray_numbers) for _ in range(TEXTS)]


def _survives(value: str, text: str) -> bool:
    """True when the letters and digits of ``value`` appear in ``text`` in order, whatever
    separates them (at most five characters)."""
    chars = [re.escape(ch) for ch in value if ch.isalnum()]
    return re.search(r"[^0-9A-Za-z]{0,5}".join(chars), text, re.IGNORECASE) is not None


def _expected(text: str, entities: list[Entity], vault: Vault) -> str:
    out, at = [], 0
    for e in entities:
        out.extend((text[at:e.start], vault.placeholder(e.kind, text[e.start:e.end])))
        at = e.end
    return "".join([*out, text[at:]])


@pytest.mark.parametrize("stray_numbers", [False, True])
def test_exactly_the_detected_spans_are_masked_and_nothing_of_them_survives(
        stray_numbers: bool) -> None:
    detectors = Detectors("US")
    for text, _ in _texts(stray_numbers):
        entities = detectors.find(text)
        for before, after in itertools.pairwise(entities):
            assert before.end <= after.start, text
        assert all(0 <= e.start < e.end <= len(text) for e in entities), text
        masked = Vault(detectors).mask(text)
        assert masked == _expected(text, entities, Vault(detectors)), text
        # every span any single detector reports, before overlaps are merged
        for e in [e for detect in detectors.detectors for e in detect(text)]:
            value = text[e.start:e.end]
            assert value not in masked, (text, e)
            if sum(ch.isalnum() for ch in value) >= 6:
                assert not _survives(value, masked), (text, e, masked)


def test_every_planted_value_is_masked_whatever_its_format() -> None:
    detectors = Detectors("US")
    for text, planted in _texts(stray_numbers=False):
        masked = Vault(detectors).mask(text)
        for kind, value in planted:
            assert not _survives(value, masked), (kind, value, text, masked)
        assert {e.kind for e in detectors.find(text)} >= {k for k, _ in planted} - {"PHONE"}


@pytest.mark.parametrize("stray_numbers", [False, True])
def test_streamed_masking_equals_masking_the_whole_text(stray_numbers: bool) -> None:
    rng = random.Random(SEED)
    detectors = Detectors("US")
    for text, _ in _texts(stray_numbers):
        whole = Vault(detectors, prefix="REDACTED_").mask(text)
        masker = StreamMasker(Vault(detectors, prefix="REDACTED_"))
        cuts = sorted({0, len(text), *(rng.randrange(len(text)) for _ in range(5))})
        streamed = "".join(masker.slice(text, a, b) for a, b in itertools.pairwise(cuts))
        assert streamed == whole, text
