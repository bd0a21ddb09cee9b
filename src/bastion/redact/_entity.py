"""The result every detector yields."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Entity:
    """A detected value: ``text[start:end]`` is a ``kind`` (``EMAIL``, ``CARD`` ...)."""

    kind: str
    start: int
    end: int
