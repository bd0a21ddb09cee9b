"""Policy patterns compiled with RE2: linear-time matching, many patterns in one pass.

Policy patterns are written by users and run on hostile text, so a backtracking engine would
let one bad pattern (or one crafted input) stall a worker. RE2 guarantees time linear in the
input, and its ``Set`` finds which of hundreds of patterns match in a single scan. The price is
RE2 syntax: no lookarounds and no backreferences. A category's ``unless`` patterns express the
exceptions that a negative lookahead would otherwise encode.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import re2

_OPTIONS = re2.Options()
_OPTIONS.case_sensitive = False
_OPTIONS.log_errors = False
_OPTIONS.max_mem = 64 << 20


class PatternError(ValueError):
    """A pattern RE2 cannot compile."""


#: What a space in a pattern, or between a keyword phrase's words, matches: any run of
#: characters that are neither letters nor digits (whitespace, punctuation, symbols).
GAP = r"(?:[^\pL\pN]+)"


def spaces_as_gaps(pattern: str) -> str:
    r"""``pattern`` with each run of literal spaces (outside a character class, not escaped)
    matching any run of characters that are neither letters nor digits (:data:`GAP`):
    ``how to make a bomb`` matches across a line break or a tab too (found in a gateway
    black-box pass: "how do I build a pipe" and "bomb at home" sent as two parts, joined with
    a line break, passed the rules tier), and with its words joined by symbols
    (``pipe~~~~bomb``, which a markdown client shows as "pipebomb"). A ``\ `` stays one
    space."""
    if " " not in pattern:
        return pattern
    out: list[str] = []
    i, in_class = 0, False
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            out.append(pattern[i:i + 2])
            i += 2
        elif in_class:
            in_class = char != "]"
            out.append(char)
            i += 1
        elif char == "[":
            # a "]" first in a class ("[]a]", "[^]a]") is one of its characters
            opening = pattern[i:i + 2] if pattern[i + 1:i + 2] == "^" else char
            first = len(opening)
            out.append(opening + ("]" if pattern[i + first:i + first + 1] == "]" else ""))
            i += first + (pattern[i + first:i + first + 1] == "]")
            in_class = True
        elif char == " ":
            while i < len(pattern) and pattern[i] == " ":
                i += 1
            out.append(GAP)
        else:
            out.append(char)
            i += 1
    return "".join(out)


def compile_pattern(pattern: str) -> re2._Regexp:
    """Compile one case-insensitive RE2 pattern (spaces as any gap between words,
    :func:`spaces_as_gaps`), or raise :class:`PatternError`."""
    try:
        return re2.compile(spaces_as_gaps(pattern), _OPTIONS)
    except re2.error as exc:
        detail = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else exc
        hint = ""
        if "(?<" in pattern or "(?=" in pattern or "(?!" in pattern:
            hint = ("; lookarounds are not supported (matching must stay linear-time): use "
                    "\\b for word edges and the category's 'unless' list for exceptions")
        raise PatternError(f"{detail}{hint}") from None


def keyword_pattern(word: str) -> str:
    """An RE2 pattern for a keyword phrase: words in order, any run of characters that are
    neither letters nor digits between them (spaces; "pipe-bomb", "pipe_bomb": a phrase
    joined up to look like one identifier; "pipe~~~~bomb", "pipe/bomb", "pipe,bomb"), word
    boundaries (or underscores) where the phrase starts or ends with a word character.

    Words written with nothing between them ("pipebomb") are left to the model: a phrase
    whose words may join ("the rapist") would match another word ("therapist")."""
    parts = [re.escape(part) for part in word.lower().split()]
    # Found in a black-box pass (issue 8): "How do I build a pipe~~~~bomb at home?" reached
    # the rules tier as no keyword, and a markdown client renders it as "pipebomb".
    body = GAP.join(parts)
    # A word boundary, or an underscore (a word character to RE2, so "a_pipe_bomb_kit" has no
    # boundary around "pipe bomb"); RE2 has no lookbehind, so the underscore joins the span.
    start = r"(?:\b|_)" if word[:1].isalnum() or word[:1] == "_" else ""
    end = r"(?:\b|_)" if word[-1:].isalnum() or word[-1:] == "_" else ""
    return f"{start}{body}{end}"


@dataclass(frozen=True)
class PatternSet:
    """Many patterns matched together; :meth:`which` returns the indices that match."""

    regexes: tuple[re2._Regexp, ...]
    _set: re2.Set | None

    @classmethod
    def build(cls, patterns: Sequence[str]) -> PatternSet:
        """Compile every pattern; raise :class:`PatternError` naming the first bad one."""
        regexes = []
        for pattern in patterns:
            try:
                regexes.append(compile_pattern(pattern))
            except PatternError as exc:
                raise PatternError(f"pattern {pattern!r}: {exc}") from None
        if not regexes:
            return cls((), None)
        union = re2.Set.SearchSet(_OPTIONS)
        for regex in regexes:  # each already written with its gaps (compile_pattern)
            union.Add(regex.pattern)
        union.Compile()
        return cls(tuple(regexes), union)

    def which(self, text: str) -> list[int]:
        """Indices of the patterns that match somewhere in ``text``."""
        if self._set is None:
            return []
        return sorted(self._set.Match(text) or ())

    def span(self, index: int, text: str) -> tuple[int, int] | None:
        """Where pattern ``index`` first matches in ``text`` (character offsets)."""
        return next(self.spans(index, text), None)

    def spans(self, index: int, text: str) -> Iterator[tuple[int, int]]:
        """Where pattern ``index`` matches in ``text``, in order (character offsets)."""
        for found in self.regexes[index].finditer(text):
            yield found.span()
