"""The redaction detectors, format by format: what is masked, and what must be left alone."""

from __future__ import annotations

import pytest

from bastion.redact import Detectors, Vault


def found(text: str) -> list[tuple[str, str]]:
    """Each detected entity as (kind, the text it covers)."""
    return [(e.kind, text[e.start:e.end]) for e in Detectors("US").find(text)]


@pytest.mark.parametrize("ssn", ["512-84-3301", "078-05-1120", "512 84 3301", "512.84.3301",
                                 "512/84/3301", "512\u201384\u20133301", "899-99-9999"])
def test_ssns_with_separators_are_masked(ssn: str) -> None:
    text = f"my number is {ssn}, thanks"
    assert found(text) == [("SSN", ssn)]
    assert Vault(Detectors()).mask(text) == "my number is [SSN_1], thanks"


@pytest.mark.parametrize("text", ["SSN: 512843301", "my ssn is 512843301", "SS# 512843301",
                                  "Social Security number 512843301", "512843301 is my SSN",
                                  "social-security no. on file: 078051120"])
def test_bare_nine_digits_are_an_ssn_only_beside_the_word(text: str) -> None:
    assert [kind for kind, _ in found(text)] == ["SSN"]
    bare = "".join(ch for ch in text if ch.isdigit())
    assert found(f"order {bare} shipped to the warehouse on time") == []


@pytest.mark.parametrize("number", [
    "000-12-3456", "666-12-3456", "900-12-3456", "999-12-3456",  # areas never issued
    "512-00-3301", "512-84-0000",                                # group 00, serial 0000
    "512-84 3301",                                               # two different separators
    "2024-512-84-3301", "512.84.3301.7", "1/512/84/3301",        # part of a longer number
])
def test_numbers_that_cannot_be_ssns_are_left_alone(number: str) -> None:
    assert "SSN" not in [kind for kind, _ in found(f"ref {number} ok")]


def test_ssn_placeholders_are_restored_in_answers() -> None:
    vault = Vault(Detectors())
    assert vault.mask("ssn 512-84-3301") == "ssn [SSN_1]"
    assert vault.restore("Stored [SSN_1].") == "Stored 512-84-3301."
