"""The stream guard's bookkeeping: text per (choice, field), and frames waiting for release.

Each upstream chunk becomes a :class:`Frame` that remembers which slice of which buffer it
carried. A frame may leave only when every slice it carries lies in checked text outside the
held-back tail; frames leave in order.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from bastion.gateway._extract import Path, set_path

Key = tuple[int, str]
"""(choice index, field): ``content``, ``refusal``, ``reasoning_content``, ``tool.0.name``..."""

_FIELD_ORDER = ("text", "content", "refusal", "reasoning_content", "reasoning", "tool",
                "function_call")


@dataclass
class Slice:
    """A frame's piece of a buffer: ``buffer[start:end]``, found at ``path`` in the chunk."""

    key: Key
    path: Path
    start: int
    end: int


@dataclass
class Frame:
    """One upstream chunk, as received (``raw``) and parsed (``chunk``)."""

    raw: str
    chunk: dict[str, Any]
    slices: list[Slice] = field(default_factory=list)


def _delta_texts(choice: dict[str, Any], pos: int) -> Iterator[tuple[str, Path, str]]:
    if isinstance(choice.get("text"), str):
        yield "text", ("choices", pos, "text"), choice["text"]
    delta = choice.get("delta")
    if not isinstance(delta, dict):
        return
    base: Path = ("choices", pos, "delta")
    for name in ("content", "refusal", "reasoning_content", "reasoning"):
        if isinstance(delta.get(name), str):
            yield name, (*base, name), delta[name]
    for at, call in enumerate(delta.get("tool_calls") or []):
        function = call.get("function") if isinstance(call, dict) else None
        index = call.get("index", at) if isinstance(call, dict) else at
        for part in ("name", "arguments"):
            if isinstance(function, dict) and isinstance(function.get(part), str):
                yield (f"tool.{index:04d}.{part}", (*base, "tool_calls", at, "function", part),
                       function[part])
    call = delta.get("function_call")
    for part in ("name", "arguments"):
        if isinstance(call, dict) and isinstance(call.get(part), str):
            yield f"function_call.{part}", (*base, "function_call", part), call[part]


def _order(key: Key) -> tuple[int, int, str, int]:
    """Sort key matching :func:`~bastion.gateway._extract.message_fields` (name, then args)."""
    head, _, rest = key[1].partition(".")
    rank = _FIELD_ORDER.index(head) if head in _FIELD_ORDER else len(_FIELD_ORDER)
    call, _, part = rest.rpartition(".")
    return key[0], rank, call, 0 if part == "name" else 1


class Held:
    """Buffers, check marks and the queue of frames not yet released."""

    def __init__(self) -> None:
        self.buffers: dict[Key, str] = {}
        self.checked: dict[Key, int] = {}
        self.safe: dict[Key, int] = {}
        self.frames: deque[Frame] = deque()

    def add(self, raw: str, chunk: dict[str, Any]) -> None:
        """Queue a chunk and append its texts to the buffers."""
        frame = Frame(raw, chunk)
        for pos, choice in enumerate(chunk.get("choices") or []):
            if not isinstance(choice, dict):
                continue
            index = choice.get("index", pos)
            index = index if isinstance(index, int) else pos
            for name, path, text in _delta_texts(choice, pos):
                key = (index, name)
                start = len(self.buffers.get(key, ""))
                self.buffers[key] = self.buffers.get(key, "") + text
                frame.slices.append(Slice(key, path, start, start + len(text)))
        self.frames.append(frame)

    def due(self, window: int, *, force: bool = False) -> list[Key]:
        """Buffers with at least ``window`` unchecked characters (any, with ``force``)."""
        return [key for key, text in self.buffers.items()
                if len(text) - self.checked.get(key, 0) >= (1 if force else window)]

    def mark_checked(self, key: Key, tail: int) -> None:
        """Everything in the buffer is checked; all but ``tail`` characters may leave."""
        length = len(self.buffers[key])
        self.checked[key] = length
        self.safe[key] = max(self.safe.get(key, 0), length - tail)

    def release_all(self) -> None:
        """After the final check: every buffer may leave in full."""
        for key, text in self.buffers.items():
            self.safe[key] = len(text)

    def releasable(self, rewrite: Callable[[Key, int, int], str] | None) -> Iterator[str]:
        """Frames whose text is all safe, in order, as SSE frames.

        ``rewrite(key, start, end)`` gives the text to send for ``buffers[key][start:end]``
        (masked, restored); without it frames leave byte for byte as received.
        """
        while self.frames:
            frame = self.frames[0]
            if any(s.end > self.safe.get(s.key, 0) for s in frame.slices):
                return
            self.frames.popleft()
            if rewrite is None or not frame.slices:
                yield frame.raw
                continue
            for piece in frame.slices:
                set_path(frame.chunk, piece.path, rewrite(piece.key, piece.start, piece.end))
            yield "data: " + json.dumps(frame.chunk, ensure_ascii=True,
                                        separators=(",", ":")) + "\n\n"

    def choice_texts(self) -> list[str]:
        """Each choice's fields joined, in the order the non-streamed check uses."""
        by_choice: dict[int, list[str]] = {}
        for key in sorted(self.buffers, key=_order):
            if self.buffers[key]:
                by_choice.setdefault(key[0], []).append(self.buffers[key])
        return ["\n".join(parts) for _, parts in sorted(by_choice.items())]

    def total_chars(self) -> int:
        """Characters generated so far, all buffers together."""
        return sum(len(text) for text in self.buffers.values())
