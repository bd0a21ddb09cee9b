"""Evidence made visible without trusting the text: split it into segments to escape one by one.

The playground shows hostile text. It is never marked up as a string: the text is cut at the
evidence spans' edges into plain segments, and the template escapes each one and wraps the
marked ones in ``<mark>``. Overlapping spans merge; spans outside the text are clipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from bastion.classify import Span


@dataclass(frozen=True)
class Segment:
    """A run of the text; ``marked`` runs are evidence, ``note`` says of what."""

    text: str
    marked: bool = False
    note: str = ""


def segments(text: str, spans: Sequence[Span]) -> list[Segment]:
    """The text cut into plain and marked segments, in order; their texts join to ``text``."""
    cuts = {0, len(text)}
    clipped = []
    for span in spans:
        start, end = max(0, span.start), min(len(text), span.end)
        if start < end:
            clipped.append((start, end, _note(span)))
            cuts.update((start, end))
    edges = sorted(cuts)
    out: list[Segment] = []
    for start, end in pairwise(edges):
        notes = sorted({n for s, e, n in clipped if s <= start and end <= e and n})
        covered = any(s <= start and end <= e for s, e, _ in clipped)
        piece = Segment(text[start:end], covered, "; ".join(notes))
        if out and out[-1].marked == piece.marked and out[-1].note == piece.note:
            piece = Segment(out.pop().text + piece.text, piece.marked, piece.note)
        out.append(piece)
    return [s for s in out if s.text]


def _note(span: Span) -> str:
    parts = [p for p in (span.category, span.note) if p]
    return ": ".join(parts)
