"""The text of an answer's log-probs: the tokens, their bytes and their alternatives.

A client may print the tokens instead of the content, so they are read as answer text too:
the text they spell, the text the alternatives of each rank spell across the steps, and token
bytes that say something other than their token.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from bastion.gateway._extract import Path
from bastion.gateway._walk import (
    AnswerText,
    Unreadable,
    object_keys,
    string_field,
    walk_answer,
    where,
)


def logprobs_texts(index: int, path: Path, value: Any) -> Iterator[AnswerText]:
    """The tokens of ``logprobs`` (chat and text shapes): the text they spell, the text the
    alternatives of each rank spell across the steps (``logprobs.top.<rank>``: an answer can
    be spread over the second-best tokens as well as the best), and token bytes that say
    something other than their token."""
    if value is None:
        return
    if not isinstance(value, dict):
        raise Unreadable(f"{where(path)} must be an object")
    yield from object_keys(index, path, value)
    for key, item in value.items():
        at = (*path, key)
        if key in ("content", "refusal") and isinstance(item, list):
            yield from logprob_steps(index, at, item)
        elif key == "tokens" and isinstance(item, list):
            for n, token in enumerate(item):
                yield from string_field(index, "logprobs", (*at, n), token)
        elif key == "top_logprobs" and isinstance(item, list):
            yield from _text_alternatives(index, at, item)
        elif key not in ("token_logprobs", "text_offset") and item is not None:
            yield from walk_answer(index, "logprobs", at, item)


def logprob_steps(index: int, path: Path, steps: Any) -> Iterator[AnswerText]:
    """Chat-style (and Responses) logprobs: a list of steps, each a token with its bytes and
    its alternatives (``top_logprobs``), read as :func:`logprobs_texts` says."""
    if steps is None:
        return
    if not isinstance(steps, list):
        raise Unreadable(f"{where(path)} must be a list")
    for n, step in enumerate(steps):
        if not isinstance(step, dict):
            raise Unreadable(f"{where((*path, n))} must be an object")
        token = step.get("token")
        yield from string_field(index, "logprobs", (*path, n, "token"), token)
        yield from _token_bytes(index, (*path, n, "bytes"), step.get("bytes"), token)
        yield from _step_rest(index, (*path, n), step)
        alternatives = step.get("top_logprobs") or []
        if not isinstance(alternatives, list) or not all(isinstance(a, dict)
                                                         for a in alternatives):
            raise Unreadable(f"{where((*path, n, 'top_logprobs'))} must be a list of objects")
        for rank, m in enumerate(_by_logprob([a.get("logprob") for a in alternatives])):
            at = (*path, n, "top_logprobs", m)
            alt = alternatives[m]
            yield from _alternative(index, rank, (*at, "token"), alt.get("token"))
            yield from _token_bytes(index, (*at, "bytes"), alt.get("bytes"), alt.get("token"))
            yield from _step_rest(index, at, alt)


_STEP_KEYS = ("token", "bytes", "logprob", "top_logprobs")


def _step_rest(index: int, path: Path, step: dict[Any, Any]) -> Iterator[AnswerText]:
    """A logprob step's (or alternative's) keys and whatever it holds besides its token, bytes
    and logprob (those went out unread)."""
    yield from object_keys(index, path, step)
    for key, value in step.items():
        if key not in _STEP_KEYS:
            yield from walk_answer(index, "logprobs", (*path, key), value)


def _by_logprob(logprobs: list[Any]) -> list[int]:
    """Positions of alternatives, most likely first (as a client ranks them; the order they
    are listed in is no promise). Ties, and values that are no number, keep list order."""
    def key(m: int) -> float:
        value = logprobs[m]
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        return -float(value) if number and math.isfinite(value) else math.inf
    return sorted(range(len(logprobs)), key=key)


def _token_bytes(index: int, path: Path, value: Any, token: Any) -> Iterator[AnswerText]:
    """A token's UTF-8 bytes, read as text when they spell something other than the token
    (a client may decode them instead)."""
    if value is None:
        return
    if not isinstance(value, list) or not all(
            isinstance(b, int) and not isinstance(b, bool) and 0 <= b < 256 for b in value):
        raise Unreadable(f"{where(path)} must be a list of bytes")
    text = bytes(value).decode("utf-8", "ignore")
    if text and text != token:
        yield AnswerText((index, "logprobs.bytes"), path, text)


def _text_alternatives(index: int, path: Path, steps: list[Any]) -> Iterator[AnswerText]:
    for n, alternatives in enumerate(steps):
        if isinstance(alternatives, dict):  # {token: logprob}: the keys are text
            tokens = list(alternatives)
            for rank, m in enumerate(_by_logprob(list(alternatives.values()))):
                yield AnswerText((index, f"logprobs.top.{rank}"), (*path, n), str(tokens[m]))
        elif alternatives is not None:
            raise Unreadable(f"{where((*path, n))} must be an object")


def _alternative(index: int, rank: int, path: Path, token: Any) -> Iterator[AnswerText]:
    if not isinstance(token, str):
        raise Unreadable(f"{where(path)} must be a string")
    yield AnswerText((index, f"logprobs.top.{rank}"), path, token)
