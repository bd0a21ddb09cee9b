"""Split long inputs into overlapping windows so no text is silently truncated."""

from __future__ import annotations

import re

_BREAK = re.compile(r"\s")


def windows(text: str, size: int, overlap: int) -> list[tuple[int, int]]:
    """Character ranges ``[start, end)`` that cover ``text`` with ``overlap`` chars shared.

    Window edges move back to the nearest whitespace (within a quarter window) so words are
    not cut in half. A text no longer than ``size`` is one window. Every character of the
    text lies in at least one window, so the worst window can decide for the whole text.
    """
    if size <= 0 or not 0 <= overlap < size:
        raise ValueError(f"need size > 0 and 0 <= overlap < size, got {size=} {overlap=}")
    if len(text) <= size:
        return [(0, len(text))]
    spans: list[tuple[int, int]] = []
    start = 0
    while True:
        end = min(start + size, len(text))
        if end < len(text):
            cut = _last_break(text, start + size * 3 // 4, end)
            end = cut if cut > start else end
        spans.append((start, end))
        if end >= len(text):
            return spans
        start = max(end - overlap, start + 1)


def _last_break(text: str, low: int, high: int) -> int:
    for index in range(high, low, -1):
        if _BREAK.match(text, index - 1):
            return index
    return high
