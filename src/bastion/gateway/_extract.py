"""Every content field of a request or response, found by path so it can be rewritten.

A request field is ``(path, text)``; ``path`` indexes into the JSON body, so the redact action
can put masked text back. Fields the gateway cannot check (image parts, token-id prompts) are
reported so the request is refused rather than passed unchecked.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

Path = tuple[str | int, ...]

_TEXT_PART_TYPES = frozenset({"text", "input_text", "output_text"})
_REASONING_KEYS = ("reasoning_content", "reasoning")


@dataclass(frozen=True)
class TextField:
    """One piece of text in a JSON body and where it lives.

    ``rewritable`` is false for text the gateway derived from structured data (a tool's JSON
    schema): it is checked like any other field, but masking cannot be written back into it.
    """

    path: Path
    text: str
    rewritable: bool = True


class Unchecked(Exception):  # noqa: N818 - names the situation, like httpx's exceptions
    """A request holds content the gateway cannot check (the message says which)."""


def set_path(body: Any, path: Path, value: str) -> None:
    """Replace the value at ``path`` inside ``body``."""
    target = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value


def _content(path: Path, content: Any) -> Iterator[TextField]:
    if isinstance(content, str):
        yield TextField(path, content)
    elif isinstance(content, list):
        for index, part in enumerate(content):
            if isinstance(part, str):
                yield TextField((*path, index), part)
            elif isinstance(part, dict) and part.get("type") in _TEXT_PART_TYPES:
                yield TextField((*path, index, "text"), str(part.get("text", "")))
            elif isinstance(part, dict) and part.get("type") == "refusal":
                yield TextField((*path, index, "refusal"), str(part.get("refusal", "")))
            else:
                kind = part.get("type") if isinstance(part, dict) else type(part).__name__
                raise Unchecked(f"content part {kind!r} at {'.'.join(map(str, path))} cannot "
                                "be checked by this gateway; send text parts only")
    elif content is not None:
        raise Unchecked(f"{'.'.join(map(str, path))} must be a string or a list of parts")


def _tool_calls(path: Path, calls: Any) -> Iterator[TextField]:
    for index, call in enumerate(calls if isinstance(calls, list) else []):
        function = call.get("function") if isinstance(call, dict) else None
        if isinstance(function, dict):
            for key in ("name", "arguments"):
                if isinstance(function.get(key), str):
                    yield TextField((*path, index, "function", key), function[key])


def message_fields(path: Path, message: Any) -> Iterator[TextField]:
    """The text fields of one chat message (any role), in a fixed order."""
    if not isinstance(message, dict):
        raise Unchecked(f"{'.'.join(map(str, path))} is not a message object")
    yield from _content((*path, "content"), message.get("content"))
    if isinstance(message.get("refusal"), str):
        yield TextField((*path, "refusal"), message["refusal"])
    for key in _REASONING_KEYS:
        if isinstance(message.get(key), str):
            yield TextField((*path, key), message[key])
    yield from _tool_calls((*path, "tool_calls"), message.get("tool_calls"))
    call = message.get("function_call")
    if isinstance(call, dict):
        for key in ("name", "arguments"):
            if isinstance(call.get(key), str):
                yield TextField((*path, "function_call", key), call[key])


def _strings(path: Path, value: Any, name: str) -> Iterator[TextField]:
    if isinstance(value, str):
        yield TextField(path, value)
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        for index, item in enumerate(value):
            yield TextField((*path, index), item)
    elif value is not None:
        raise Unchecked(f"{name!r} holds token ids or other non-text input, which cannot be "
                        "checked; send text")


def _schema_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _tools(body: dict[str, Any]) -> Iterator[TextField]:
    """Tool definitions: the model reads their names, descriptions and parameter schemas."""
    for index, tool in enumerate(body.get("tools") or []):
        function = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(function, dict):
            continue
        base: Path = ("tools", index, "function")
        for key in ("name", "description"):
            if isinstance(function.get(key), str):
                yield TextField((*base, key), function[key])
        if function.get("parameters") is not None:
            yield TextField((*base, "parameters"), _schema_text(function["parameters"]),
                            rewritable=False)


def _extras(body: dict[str, Any]) -> Iterator[TextField]:
    """Other request fields whose text reaches the model."""
    prediction = body.get("prediction")
    if isinstance(prediction, dict) and prediction.get("content") is not None:
        yield from _content(("prediction", "content"), prediction["content"])
    response_format = body.get("response_format")
    if isinstance(response_format, dict) and response_format.get("json_schema") is not None:
        yield TextField(("response_format", "json_schema"),
                        _schema_text(response_format["json_schema"]), rewritable=False)


def request_fields(route: str, body: dict[str, Any]) -> list[TextField]:
    """Every text field a request sends to the model.

    Raises:
        Unchecked: the request holds content that cannot be checked.
    """
    if route == "chat":
        messages = body.get("messages")
        if not isinstance(messages, list):
            raise Unchecked("'messages' must be a list of message objects")
        fields = [f for i, m in enumerate(messages) for f in message_fields(("messages", i), m)]
        return [*fields, *_tools(body), *_extras(body)]
    if route == "completions":
        return [*_strings(("prompt",), body.get("prompt"), "prompt"),
                *_strings(("suffix",), body.get("suffix"), "suffix")]
    if route in ("embeddings", "moderations"):
        return list(_strings(("input",), body.get("input"), "input"))
    return []


def choice_fields(route: str, choice: Any, index: int) -> list[TextField]:
    """The text fields of one response choice."""
    if not isinstance(choice, dict):
        return []
    if route == "completions":
        text = choice.get("text")
        return [TextField(("choices", index, "text"), text)] if isinstance(text, str) else []
    return list(message_fields(("choices", index, "message"), choice.get("message") or {}))


def joined(fields: list[TextField]) -> str:
    """The texts of several fields as one, the way both stream and non-stream check them."""
    return "\n".join(f.text for f in fields if f.text)
