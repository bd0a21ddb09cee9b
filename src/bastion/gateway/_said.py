"""A streamed choice's text in the order it arrived, for values split between its fields.

A stream's fields are masked each in its own buffer (``StreamMasker``), so a card number the
model began in ``delta.content`` and ended in a tool call's arguments, or an address begun in
one field and ended in another, left in two harmless halves (issue 8). :class:`Said` keeps
each choice's text one piece after another, as a client printing every delta shows it (a tool
call's arguments as the string values of their JSON, the name of a tool left out: it names one
of the request's tools), and finds the values that run across fields. Each field's part of
one gets a placeholder of its own where it starts, as in a whole answer
(``_jsontext.mask_texts``).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from bastion.gateway._arrival import Span, Values, is_arguments
from bastion.gateway._walk import Key
from bastion.redact import Vault

#: Characters read on each side of a piece for a value that runs across it (the longest value
#: split so, an IBAN with spaces, is 42: ``bastion.redact``'s split reach).
REACH = 64

@dataclass
class _Run:
    """Consecutive said text from one field, from ``start`` in the said text: characters of
    the field's buffer from ``at`` on (plain text), or each at ``spans[i]`` (JSON values)."""

    key: Key
    start: int
    at: int
    size: int = 0
    spans: list[Span] | None = None

    def span(self, i: int) -> Span:
        """Where the run's ``i``-th character lies in its field's buffer."""
        return (self.at + i, self.at + i + 1) if self.spans is None else self.spans[i]

    def said(self, start: int, end: int) -> tuple[int, int] | None:
        """The said text this run holds of its field's buffer ``[start, end)``."""
        if self.spans is None:
            lo, hi = max(start, self.at), min(end, self.at + self.size)
            return (self.start + lo - self.at, self.start + hi - self.at) if lo < hi else None
        lo = bisect.bisect_left(self.spans, (start, -1))
        hi = bisect.bisect_left(self.spans, (end, -1))
        return (self.start + lo, self.start + hi) if lo < hi else None


class Said:
    """Each choice's text in arrival order (see the module's docstring).

    Lifetime: one stream, beside its ``Held``. Concurrency: one task.
    """

    def __init__(self) -> None:
        self.text: dict[int, str] = {}
        self.runs: dict[int, list[_Run]] = {}
        self._starts: dict[int, list[int]] = {}  # each run's start in the said text
        self._of: dict[Key, list[_Run]] = {}
        self._values: dict[Key, Values] = {}

    def add(self, key: Key, start: int, text: str) -> None:
        """Append a piece of field ``key`` (a choice's), which lies at ``start`` in its
        buffer; a tool's name is left out."""
        if key[1].endswith(".name"):
            return
        spans: list[Span] | None = None
        chars = text
        if is_arguments(key):
            chars, spans = self._values.setdefault(key, Values()).feed(text, start)
        if not chars:
            return
        # popped, the text has one reference and CPython appends in place: a new string a
        # piece made a long stream's reading quadratic
        said = self.text.pop(key[0], "")
        runs = self.runs.setdefault(key[0], [])
        last = runs[-1] if runs else None
        if last is None or last.key != key or (spans is None) != (last.spans is None) \
                or (spans is None and last.at + last.size != start):
            last = _Run(key, len(said), start, spans=None if spans is None else [])
            runs.append(last)
            self._starts.setdefault(key[0], []).append(last.start)
            self._of.setdefault(key, []).append(last)
        if last.spans is not None and spans is not None:
            last.spans.extend(spans)
        last.size += len(chars)
        said += chars
        self.text[key[0]] = said

    def parts(self, key: Key, start: int, end: int, vault: Vault) -> list[tuple[int, int, str]]:
        """The parts of field ``key``'s buffer ``[start, end)`` that belong to a value running
        across fields, in order and apart: (start, end, placeholder), the placeholder empty
        where the part began before ``start`` (it was written there)."""
        out: dict[Span, str] = {}
        for run in self._of.get(key, []):
            said = run.said(start, end)
            if said is None or len({r.key for r in self._near(key[0], said[0] - REACH,
                                                              said[1] + REACH)}) < 2:
                continue  # no other field within reach
            base = max(0, said[0] - REACH)
            for entity in vault.detectors.find(self.text[key[0]][base:said[1] + REACH]):
                first, last = entity.start + base, entity.end + base
                if first >= said[1] or last <= said[0]:
                    continue
                pieces = self._pieces(key[0], first, last)
                if len({owner for owner, _, _ in pieces}) < 2 or any(
                        e.kind == entity.kind for _, _, value in pieces
                        for e in vault.detectors.find(value)):
                    continue  # within one field, or a value whole in one (its masker's) that
                    # runs on into the next ('bob@example.com' + 'brewed')
                for owner, (lo, hi), value in pieces:
                    if owner == key and lo < end and hi > start:
                        out[(max(lo, start), min(hi, end))] = \
                            vault.placeholder(entity.kind, value) if lo >= start else ""
        return [(lo, hi, placeholder) for (lo, hi), placeholder in sorted(out.items())]

    def _near(self, index: int, first: int, last: int) -> list[_Run]:
        """The runs of choice ``index`` that hold said text within ``[first, last)``."""
        starts = self._starts[index]
        lo = max(0, bisect.bisect_right(starts, first) - 1)
        return [run for run in self.runs[index][lo:bisect.bisect_left(starts, last)]
                if run.start + run.size > first]

    def _pieces(self, index: int, first: int, last: int) -> list[tuple[Key, Span, str]]:
        """Said text ``[first, last)`` as the parts of fields' buffers it lies in: (field,
        span in its buffer, the said text of it), a gap between values ending a part."""
        out: list[tuple[Key, Span, str]] = []
        for run in self._near(index, first, last):
            lo, hi = max(first, run.start), min(last, run.start + run.size)
            begun: int | None = None
            for at in range(lo, hi + 1):
                span = run.span(at - run.start) if at < hi else None
                if begun is not None and (span is None or span[0] == span[1]):
                    out.append((run.key, (run.span(begun - run.start)[0],
                                          run.span(at - 1 - run.start)[1]),
                                self.text[index][begun:at]))
                    begun = None
                if span is not None and span[0] < span[1] and begun is None:
                    begun = at
        return out
