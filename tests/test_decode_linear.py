"""Reading a text for hidden forms takes time linear in its length: a pattern that backtracks
reads a long run again from each of its characters, and an attacker sends such runs."""

from __future__ import annotations

import re
import sys

from bastion.classify._decode import _QP_SPACED, decode_runs

#: What the pattern meant in Python's ``re``, whose ``\s`` is Unicode whitespace.
_MEANT = re.compile(r"(?:[^\s=]+=20){3}")
_SPACES = [c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace()]


def test_quoted_printable_words_read_spaces_as_python_does() -> None:
    """RE2's ``\\s`` is ASCII only; the class that replaces it holds every whitespace
    character, so a word never runs across a no-break or ideographic space."""
    texts = [f"How=20do{space}=20I=20make" for space in _SPACES]
    texts += [f"How=20do=20I{space}=20x" for space in _SPACES]
    texts += ["How=20do=20I=20make", "caf\u00e9=20na\u00efve=20x=20", "a=b=20c=20d=20"]
    assert [bool(_QP_SPACED.search(t)) for t in texts] == [bool(_MEANT.search(t))
                                                           for t in texts]
    assert any(_QP_SPACED.search(t) for t in texts)
    assert not all(_QP_SPACED.search(t) for t in texts)


def test_a_long_run_with_an_equals_sign_is_read_once() -> None:
    """200,000 letters and an '=' anywhere: Python's backtracking read the run once from
    each of its letters (about five minutes; a finding's transcript test stalled CI)."""
    text = "onerror=alert " + "A" * 200_000
    assert decode_runs(text) == []
