"""The stream guard's units of release: a chunk as a :class:`Frame`, and the
:class:`Slice` of each buffer it carried (``_held``: a frame leaves once every slice it
carries lies in checked, released text; frames leave in order)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bastion.gateway._extract import Path
from bastion.gateway._walk import Key


@dataclass
class Slice:
    """A frame's piece of a buffer: ``buffer[start:end]``, found at ``path`` in the chunk."""

    key: Key
    path: Path
    start: int
    end: int


@dataclass
class Frame:
    """One upstream chunk, as its SSE frame to send (``raw``: the chunk as read, re-written)
    and parsed (``chunk``)."""

    raw: str
    chunk: dict[str, Any]
    slices: list[Slice] = field(default_factory=list)
    event: str | None = None
    """The SSE event name (the Responses API names its events; chat chunks have none)."""
    to_end: bool = False
    """Held until the final check passed (``response.completed`` or ``.incomplete``: it hands
    out the id that carries the conversation on)."""
