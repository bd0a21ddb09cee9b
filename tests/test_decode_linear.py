"""Reading a text for hidden forms takes time linear in its length: a pattern that backtracks
reads a long run again from each of its characters, and an attacker sends such runs."""

from __future__ import annotations

import re
import sys
from typing import Any

import pytest

from bastion.classify._decode import _QP_SPACED, decode_runs
from bastion.classify._fold import _disguised
from bastion.classify._layout import _WRAPPED, _WRAPPED_WORD
from bastion.classify._letters import _LEET_WORD, _LEFT_LEET
from bastion.classify._variants import _JOINED, views

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


@pytest.mark.parametrize("unit", ["'", "A.", "a.b.", "xn--", "a|", "a_", "="])
def test_a_long_run_of_one_shape_is_read_in_linear_time(unit: str) -> None:
    """Runs that made a pattern backtrack (quotes around words, leet words, joined words,
    snake_case, quoted-printable words) or a decoding recurse (punycode that decodes to
    more punycode: RecursionError) are read like any text. Before, 20,000 apostrophes took
    68 s and 'xn--' repeated raised; the quadratic ones grew fourfold per doubling."""
    text = "onerror=alert & \\u0041 %41 " + unit * (40_000 // len(unit))
    assert [v.text for v in views(text)]


@pytest.mark.parametrize(("old", "new"), [
    (r"(?<![\w.,])(?:[0-9@$]|[a-z0-9@$]*[a-z][a-z0-9@$]*)(?![\w.,])", _LEET_WORD),
    (r"(?<![\w.,])(?:[0-9]{2,4}|[a-z0-9@$]*[a-z][a-z0-9@$]*)(?=[.,!?;:]?(?:\s|$))",
     _LEFT_LEET),
    (r"[A-Za-z0-9'?!.,]+(?:([|+~])[A-Za-z0-9'?!.,]+)(?:\1[A-Za-z0-9'?!.,]+){2,}", _JOINED),
    (rf"(?:{_WRAPPED_WORD}[,\s+]+){{3,}}{_WRAPPED_WORD}", _WRAPPED),
])
def test_linear_patterns_find_what_the_backtracking_ones_found(old: str, new: Any) -> None:
    """Each rewritten pattern marks the same spans as the one it replaced, on texts of its
    shapes (the commit also compared them over the shared benign sets: 0 differ)."""
    texts = ["m4k3 4 p1p3 b0mb", "p057, 70 see", "a.a.a. 1337 h4ck3r", "how|do|I|make",
             "how+do+I+make+it", "a~b~c~d", "|how|do|I|make|", "mix|of+joiners~here|x|y",
             "3.5 and 2024 @home $5", "x" * 50 + "1", "c++ and a|b",
             '"How" "do" "I" "make"', "#how #do #i #make", "(how)\u00a0(do)\u3000(I) (make)",
             "*how*, *do* +*I* *make* it", "'a' 'b' 'c'"]
    mark = lambda m: f"<{m.group(0)}>"  # noqa: E731
    assert [new.sub(mark, t) for t in texts] == [re.sub(old, mark, t) for t in texts]


def test_a_disguised_word_is_found_as_the_lookahead_pattern_found_it() -> None:
    """A leet symbol between two letters in four or more word characters."""
    meant = re.compile(r"(?=[A-Za-z0-9@$!|+]{4})[A-Za-z0-9@$!|+]*[A-Za-z][0-9@$!|+]+[A-Za-z]")
    words = ["p1pe", "h4ck", "1gn0r3", "mp3", "x86", "a1b", "a1bc", "ab1c", "a@@b", "a+b.c1d",
             "ab.1cd", "a" * 30 + "1", "hunter2", "b2b"]
    assert [_disguised(w) for w in words] == [bool(meant.search(w)) for w in words]
