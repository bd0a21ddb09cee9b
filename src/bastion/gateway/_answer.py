"""Every text-bearing field of an upstream answer, streamed or not, keyed by choice and field.

The same reader serves a whole completion and each streamed chunk, so both are checked on the
same text: content (a string or a list of parts), refusals, reasoning (``reasoning_content``,
``reasoning``, ``reasoning_details``), audio transcripts, tool and function calls, the tokens
of ``logprobs``, and any other string the upstream adds (``x.<field>``). A shape the reader
does not understand raises ``_walk.Unreadable``, and the answer is refused rather than
forwarded unread.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any, TypeGuard

from bastion.gateway._extract import Path
from bastion.gateway._logprobs import logprobs_texts
from bastion.gateway._walk import (
    NAMES,
    AnswerText,
    Unreadable,
    object_keys,
    string_field,
    walk_answer,
    where,
)

_TEXT_PARTS = {"text": ("content", "text"), "output_text": ("content", "text"),
               "refusal": ("refusal", "refusal"),
               "thinking": ("reasoning_content", "thinking"),
               "reasoning": ("reasoning_content", "text")}


def _part(index: int, path: Path, part: Any) -> Iterator[AnswerText]:
    if isinstance(part, str):
        yield AnswerText((index, "content"), path, part)
        return
    kind = part.get("type") if isinstance(part, dict) else None
    if not isinstance(kind, str) or kind not in _TEXT_PARTS:  # a list kind is unhashable
        raise Unreadable(f"{where(path)} is a content part of type {kind!r}, which the "
                         "gateway cannot check")
    name, key = _TEXT_PARTS[str(kind)]
    yield from object_keys(index, path, part)
    yield from string_field(index, name, (*path, key), part.get(key))
    for other, value in part.items():
        if other not in (key, "type"):
            yield from walk_answer(index, "content", (*path, other), value)


def _content(index: int, path: Path, content: Any) -> Iterator[AnswerText]:
    if isinstance(content, list):  # Mistral-style parts
        for at, part in enumerate(content):
            yield from _part(index, (*path, at), part)
    else:
        yield from string_field(index, "content", path, content)


def _call(index: int, tag: str, path: Path, call: Any) -> Iterator[AnswerText]:
    """One tool or function call: ``tag`` is ``tool.0003`` or ``function_call``."""
    if not isinstance(call, dict):
        raise Unreadable(f"{where(path)} must be an object")
    yield from object_keys(index, path, call)
    for key, value in call.items():
        if key in ("function", "custom") and isinstance(value, dict):
            yield from object_keys(index, (*path, key), value)
            for part, item in value.items():
                name = {"input": "arguments"}.get(part, part)
                if name in ("name", "arguments"):
                    yield from string_field(index, f"{tag}.{name}", (*path, key, part), item)
                else:
                    yield from walk_answer(index, tag, (*path, key, part), item)
        elif key in ("name", "arguments") and tag == "function_call":
            yield from string_field(index, f"{tag}.{key}", (*path, key), value)
        else:
            yield from walk_answer(index, tag, (*path, key), value)


def _calls(index: int, path: Path, calls: Any, *, streamed: bool) -> Iterator[AnswerText]:
    if calls is None:
        return
    if not isinstance(calls, list):
        raise Unreadable(f"{where(path)} must be a list")
    for at, call in enumerate(calls):
        number = call.get("index") if streamed and isinstance(call, dict) else at
        number = number if isinstance(number, int) and not isinstance(number, bool) else at
        yield from _call(index, f"tool.{number:04d}", (*path, at), call)


def _details(index: int, path: Path, details: Any) -> Iterator[AnswerText]:
    if not isinstance(details, list):
        raise Unreadable(f"{where(path)} must be a list")
    for at, item in enumerate(details):
        if not isinstance(item, dict):
            raise Unreadable(f"{where((*path, at))} must be an object")
        yield from object_keys(index, (*path, at), item)
        for key, value in item.items():
            if key in ("text", "summary"):
                yield from string_field(index, "reasoning_details", (*path, at, key), value)
            else:
                yield from walk_answer(index, "reasoning_details", (*path, at, key), value)


def _message(index: int, path: Path, message: Any, *, streamed: bool) -> Iterator[AnswerText]:
    if not isinstance(message, dict):
        raise Unreadable(f"{where(path)} must be an object")
    yield from object_keys(index, path, message)
    for key, value in message.items():
        at = (*path, key)
        if key == "content":
            yield from _content(index, at, value)
        elif key in ("refusal", "reasoning_content", "reasoning"):
            yield from _prose(index, key, at, value)
        elif key == "text":  # beside the content: more of it, to a client printing either
            yield from _prose(index, "content", at, value)
        elif key == "reasoning_details" and value is not None:
            yield from _details(index, at, value)
        elif key == "tool_calls":
            yield from _calls(index, at, value, streamed=streamed)
        elif key == "function_call" and value is not None:
            yield from _call(index, "function_call", at, value)
        elif key == "audio" and isinstance(value, dict):
            yield from _audio(index, at, value)
        elif key == "images" and value:  # pictures the upstream made (OpenRouter)
            raise Unreadable(f"{where(at)} holds images, which the gateway cannot check; ask "
                             "for text output")
        else:
            yield from walk_answer(index, key, at, value)


def _prose(index: int, name: str, path: Path, value: Any) -> Iterator[AnswerText]:
    """A prose field (``reasoning``...): a string, or an object or list whose strings are that
    prose (``{"type": "reasoning.text", "text": ...}``), read in arrival order with the other
    prose as a string is (as an extra field, its pieces were read only on their own)."""
    if isinstance(value, (dict, list)):
        for item in walk_answer(index, name, path, value):  # (key names stay apart)
            yield item if item.key[1] == NAMES else replace(item, key=(index, name))
    else:
        yield from string_field(index, name, path, value)


def _audio(index: int, path: Path, audio: dict[str, Any]) -> Iterator[AnswerText]:
    """An audio answer's transcript; its speech cannot be checked, so audio data is refused."""
    yield from object_keys(index, path, audio)
    for part, item in audio.items():
        if part == "transcript":
            yield from string_field(index, "audio", (*path, part), item)
        elif part == "data" and item:  # speech: its transcript says nothing of it
            raise Unreadable(f"{where((*path, part))} is audio, which the gateway cannot "
                             "check (it reads the transcript, not the speech); ask for text "
                             "output")
        else:
            yield from walk_answer(index, "audio", (*path, part), item)


def counted(value: object) -> TypeGuard[int]:
    """Whether ``value`` is a whole number of at least 1 (JSON's ``true`` is not one)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def asked_choices(request: Mapping[str, Any]) -> int:
    """How many answers a request asked for (``n``; 1 when it names none)."""
    n = request.get("n")
    return n if counted(n) else 1


def _choice(route: str, pos: int, choice: Any, *, streamed: bool,
            asked: int) -> Iterator[AnswerText]:
    path: Path = ("choices", pos)
    if not isinstance(choice, dict):
        raise Unreadable(f"choice {pos} is not an object")
    index = choice.get("index", pos)
    # A client shows choices[0] whatever its index says: an answer spread over indexes it
    # never asked for would be read as several harmless answers and shown as one.
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < asked:
        raise Unreadable(f"choice {pos} has index {index!r}, but the request asked for "
                         f"{asked} answer(s)")
    body = "text" if route == "completions" else "delta" if streamed else "message"
    if not streamed and body not in choice:
        raise Unreadable(f"choice {pos} has no {body!r}")
    yield from object_keys(index, path, choice)
    for key, value in choice.items():
        if key == "text":  # the answer; beside a chat answer, more of its content (a
            # client printing either shows them together; read alone, pieces of an answer
            # split between the two passed: a black-box pass, issue 8)
            yield from string_field(index, "text" if body == "text" else "content", (*path, key),
                             value)
        elif key == body:
            if not (streamed and value is None):
                yield from _message(index, (*path, key), value, streamed=streamed)
        elif key == "logprobs":
            yield from logprobs_texts(index, (*path, key), value)
        else:
            yield from walk_answer(index, key, (*path, key), value)


def answer_texts(route: str, data: Any, *, streamed: bool,
                 asked: int = 1) -> list[AnswerText]:
    """Every string of a completion (``streamed=False``) or of one streamed chunk, whose
    request asked for ``asked`` answers (:func:`asked_choices`).

    Raises:
        Unreadable: a shape the gateway cannot read.
    """
    if not isinstance(data, dict):
        raise Unreadable("the answer is not a JSON object")
    choices = data.get("choices")
    if not isinstance(choices, list) and not (streamed and choices is None):
        raise Unreadable("'choices' is not a list")
    out = list(object_keys(-1, (), data))
    for key, value in data.items():
        if key == "choices":
            for pos, choice in enumerate(value or []):
                out.extend(_choice(route, pos, choice, streamed=streamed, asked=asked))
        else:
            out.extend(walk_answer(-1, key, (key,), value))
    return out
