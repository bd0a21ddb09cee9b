"""The Responses API (``/v1/responses``): every string of its requests, answers and events.

Requests: ``input`` (a string, or items: messages with text parts, function and custom tool
calls and their outputs, reasoning items), ``instructions``, tool definitions and the
``text.format`` schema. Answers: the ``output`` items (message text and refusals, function
and custom tool calls, reasoning summaries and text). Streamed answers arrive as typed
events; deltas build the same buffers a whole answer fills, so both get the same check, and
the full texts that ``*.done`` events and ``response.completed`` repeat are checked too (as
their own text, choice ``-2``). Fields a whole response merely echoes from the request
(``instructions``, ``tools``...) are skipped when they equal what was sent, else checked.

State the upstream keeps is bound to the account it was made for: a response id the client
sees is the upstream's id with a tag (an HMAC of the account and the id), and a
``previous_response_id`` without this account's tag is refused, so one account cannot carry
on another's conversation with the gateway's shared upstream key. Stored conversations and
item references are refused unless the operator allows them: their content was written
through routes the gateway does not proxy.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Callable, Collection, Iterator
from dataclasses import replace
from itertools import chain
from typing import Any

from bastion.gateway._extract import (
    Path,
    TextField,
    Unchecked,
    argument_fields,
    content_fields,
    control_fields,
    definition_fields,
    dotted,
    other_keys,
    request_fields,
    tool_fields,
    type_name,
    variable_fields,
    walk,
)
from bastion.gateway._logprobs import logprob_steps
from bastion.gateway._walk import AnswerText, Unreadable, object_keys, walk_answer

ECHO = -2
"""The choice index of texts a stream repeats (``*.done`` events, the final response)."""

_ECHOED = frozenset({"instructions", "tools", "metadata", "text", "reasoning", "tool_choice",
                     "prompt", "user", "safety_identifier", "prompt_cache_key", "include",
                     "truncation", "store", "service_tier", "temperature", "top_p",
                     "max_output_tokens", "parallel_tool_calls", "previous_response_id",
                     "conversation", "background", "max_tool_calls", "top_logprobs"})
#: The events that end a Responses stream with its whole answer: they carry the id that can
#: be carried on, so they leave only after the final check.
TERMINAL = ("response.completed", "response.incomplete")  # a tuple: a type may be unhashable
_REPEATS = ("response.created", "response.in_progress", *TERMINAL, "response.queued")
#: What a streamed event's ``type`` may be: the gateway writes it into an ``event:`` line, so
#: anything else (a line break above all) could forge events the checks never read.
_EVENT_TYPE = re.compile(r"[A-Za-z0-9_.:-]{1,128}")
#: Events that carry speech or pictures (base64), which no check can read: refused, as an
#: ``output_audio`` part or an image generation call is in a whole answer.
_MEDIA_EVENTS = ("response.audio.delta", "response.output_audio.delta",
                 "response.image_generation_call.partial_image")
_INPUT_ROLES = frozenset({"user", "assistant", "system", "developer"})
_UNREADABLE_ITEMS = frozenset({"image_generation_call", "computer_call",
                               "computer_call_output"})
#: Input item types the gateway reads (string by string); any other type is refused, since
#: the upstream may read it as something the gateway never looked at.
_INPUT_ITEMS = frozenset({
    "message", "function_call", "function_call_output", "custom_tool_call",
    "custom_tool_call_output", "reasoning", "item_reference", "file_search_call",
    "web_search_call", "code_interpreter_call", "local_shell_call", "local_shell_call_output",
    "mcp_list_tools", "mcp_approval_request", "mcp_approval_response", "mcp_call"})
_TAG_CHARS = 22  # 132 bits of an HMAC-SHA256, base64url


# -- response ids bound to accounts ---------------------------------------------------------

def _tag(upstream_id: str, account_id: str, secret: str, *, final: bool) -> str:
    state = "final" if final else "pending"
    mac = hmac.new(secret.encode(), f"{account_id}\0{upstream_id}\0{state}".encode(),
                   hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).decode()[:_TAG_CHARS]


def sign_response_id(upstream_id: str, account_id: str, secret: str, *,
                     final: bool = True) -> str:
    """The id the client sees for the upstream's response ``upstream_id``: ``final`` once the
    whole answer passed its checks; a streamed answer's earlier events carry a pending id,
    which cannot be carried on (the answer might yet be stopped)."""
    return f"{upstream_id}.{_tag(upstream_id, account_id, secret, final=final)}"


def previous_response_id(value: object, account_id: str, secret: str) -> str:
    """The upstream id behind a client's ``previous_response_id``.

    Raises:
        Unchecked: not an id this gateway gave this account for a whole, checked answer
            (another account's, one made directly upstream, a pending id from a stream, or
            one from before the identity secret changed).
    """
    upstream_id, _, tag = value.rpartition(".") if isinstance(value, str) else ("", "", "")
    if not tag.isascii():  # never one of ours (compare_digest takes ASCII strings only)
        upstream_id = ""
    if upstream_id and hmac.compare_digest(tag, _tag(upstream_id, account_id, secret,
                                                     final=True)):
        return upstream_id
    if upstream_id and hmac.compare_digest(tag, _tag(upstream_id, account_id, secret,
                                                     final=False)):
        raise Unchecked("previous_response_id is the id a streamed answer carried before it "
                        "completed; an answer is carried on only once all of it passed its "
                        "checks: send the id from the event that ended it "
                        "(response.completed or response.incomplete)")
    raise Unchecked("previous_response_id is not a response this gateway returned to this "
                    "account, so its content was never checked for you; send the id from "
                    "an answer you received through this gateway, or send the conversation "
                    "in 'input'")


def sign_response(data: object, account_id: str, secret: str, *, final: bool = True) -> None:
    """Give a response object (whole, or inside a streamed event) the ids the client sees:
    its own id signed (``final`` only for a whole, checked answer), and the
    ``previous_response_id`` it echoes signed as the client sent it (the request that went
    upstream held the bare id)."""
    if not isinstance(data, dict):
        return
    if isinstance(data.get("id"), str):
        data["id"] = sign_response_id(data["id"], account_id, secret, final=final)
    if isinstance(data.get("previous_response_id"), str):
        data["previous_response_id"] = sign_response_id(data["previous_response_id"],
                                                        account_id, secret)


# -- requests -------------------------------------------------------------------------------

def input_fields(value: Any, allow: Collection[str] = ()) -> Iterator[TextField]:
    """The ``input`` of a Responses request."""
    if isinstance(value, str):
        yield TextField(("input",), value)
        return
    if not isinstance(value, list):
        raise Unchecked("'input' must be a string or a list of items")
    for index, item in enumerate(value):
        yield from _input_item(("input", index), item, allow)


def _input_item(path: Path, item: Any, allow: Collection[str]) -> Iterator[TextField]:
    if not isinstance(item, dict):
        raise Unchecked(f"input item {path[-1]} must be an object")
    kind = type_name(path, item.get("type"), default="message")
    if kind in _UNREADABLE_ITEMS:
        raise Unchecked(f"input item of type {kind!r} cannot be checked by this gateway")
    if kind not in _INPUT_ITEMS:
        raise Unchecked(f"input item {path[-1]} has type {kind!r}, which this gateway does not "
                        f"know; use one of {sorted(_INPUT_ITEMS - {'item_reference'})}")
    if kind == "item_reference" and "input.item_reference" not in allow:
        raise Unchecked(f"input item {path[-1]} is an item_reference: the upstream would read "
                        "an item this gateway never sees; send the item itself, or an "
                        "operator can allow it with request.allow_fields: "
                        "[input.item_reference]")
    if kind == "message":
        role = item.get("role")
        if not isinstance(role, str) or role not in _INPUT_ROLES:
            raise Unchecked(f"input item {path[-1]} has role {role!r}; use one of "
                            f"{sorted(_INPUT_ROLES)}")
    yield from other_keys(path, item)
    for key, value in item.items():
        at = (*path, key)
        if key in ("content", "output") or (key == "summary" and isinstance(value, list)):
            yield from content_fields(at, value)
        elif key == "arguments" or (key == "input" and not isinstance(value, str)):
            yield from argument_fields(at, value)  # as chat tool-call arguments are
        elif key == "encrypted_content" and value is not None \
                and "input.encrypted_content" not in allow:
            raise Unchecked(f"{dotted(at)} is encrypted reasoning: the upstream would read "
                            "content this gateway cannot; drop it (send the reasoning item's "
                            "summary, or previous_response_id), or an operator can allow it "
                            "with request.allow_fields: [input.encrypted_content]")
        elif key in ("type", "id", "call_id", "role", "status", "encrypted_content"):
            yield from control_fields(at, value)
        else:
            yield from walk(at, value)


def request_field(name: str, value: Any, allow: Collection[str] = ()) -> Iterator[TextField] | None:
    """The fields of one top-level Responses request field, ``None`` if it is not one.

    Raises:
        Unchecked: background mode (its result would be fetched on a route that is not
            proxied), a remote hosted tool not allowed, or content that cannot be checked.
    """
    if name == "conversation" and value is not None and "conversation" not in allow:
        raise Unchecked("'conversation' makes the upstream read a stored conversation whose "
                        "items were written through routes this gateway does not proxy; send "
                        "the items in 'input' (or previous_response_id), or an operator can "
                        "allow it with request.allow_fields: [conversation]")
    if name == "background" and value:
        raise Unchecked("background responses are fetched later from a route this gateway "
                        "does not proxy, so they cannot be checked; send background: false")
    readers: dict[str, Callable[[], Iterator[TextField]]] = {
        "input": lambda: input_fields(value, allow),
        "tools": lambda: tool_fields(name, value, allow, default_type=None),
        "text": lambda: definition_fields((name,), value),
        "instructions": lambda: _instructions(value, allow),
        "prompt": lambda: _prompt(value, allow),
        "metadata": lambda: walk((name,), value)}
    reader = readers.get(name)
    return reader() if reader is not None else None


def _instructions(value: Any, allow: Collection[str]) -> Iterator[TextField]:
    """``instructions``: a string, or items as in 'input'."""
    if isinstance(value, list):
        return (replace(f, path=("instructions", *f.path[1:]))
                for f in input_fields(value, allow))
    return walk(("instructions",), value)


def _prompt(value: Any, allow: Collection[str]) -> Iterator[TextField]:
    """A stored prompt template (refused unless the operator allows them), and the
    variables it is filled with, read as content (see :func:`variable_fields`)."""
    if not isinstance(value, dict):
        return walk(("prompt",), value)
    if value.get("id") is not None and "prompt" not in allow:
        raise Unchecked("'prompt' names a stored prompt template, which the upstream reads "
                        "from a place this gateway never sees; send its text in "
                        "'instructions' and 'input', or an operator can allow it with "
                        "request.allow_fields: [prompt]")
    return chain(walk(("prompt",), {k: v for k, v in value.items() if k != "variables"}),
                 variable_fields(("prompt", "variables"), value.get("variables")))


def responses_fields(body: dict[str, Any], allow: Collection[str] = ()) -> list[TextField]:
    """Every text field a Responses request sends to the model (see ``request_fields``)."""
    return request_fields("responses", body, allow,
                          special=lambda name, value: request_field(name, value, allow))


# -- answers --------------------------------------------------------------------------------

def _part(index: int, path: Path, part: Any) -> Iterator[AnswerText]:
    if not isinstance(part, dict):
        raise Unreadable(f"{'.'.join(map(str, path))} must be an object")
    kind = part.get("type")
    name, key = {"output_text": ("content", "text"), "refusal": ("refusal", "refusal"),
                 "summary_text": ("reasoning_details", "text"),
                 "reasoning_text": ("reasoning", "text")}.get(str(kind), (None, None))
    if name is None or key is None:
        raise Unreadable(f"{'.'.join(map(str, path))} is a part of type {kind!r}, which the "
                         "gateway cannot check")
    yield from object_keys(index, path, part)
    for field, value in part.items():
        if field == key:
            if not isinstance(value, str):
                raise Unreadable(f"{'.'.join(map(str, (*path, key)))} must be a string")
            yield AnswerText((index, name), (*path, key), value)
        elif field == "logprobs":
            yield from logprob_steps(index, (*path, field), value)
        else:
            yield from walk_answer(index, f"{name}.{field}", (*path, field), value)


def _parts(index: int, path: Path, parts: Any) -> Iterator[AnswerText]:
    if parts is None:
        return
    if not isinstance(parts, list):
        raise Unreadable(f"{'.'.join(map(str, path))} must be a list")
    for at, part in enumerate(parts):
        yield from _part(index, (*path, at), part)


def item_texts(index: int, position: int, path: Path, item: Any) -> Iterator[AnswerText]:
    """The texts of one output item at ``position`` of the output list."""
    if not isinstance(item, dict):
        raise Unreadable(f"{'.'.join(map(str, path))} must be an object")
    kind = item.get("type")
    if not isinstance(kind, str):
        raise Unreadable(f"{'.'.join(map(str, path))}.type must be a string")
    if kind in _UNREADABLE_ITEMS:
        raise Unreadable(f"output item of type {kind!r} cannot be checked by this gateway")
    tool = f"tool.{position:04d}"
    yield from object_keys(index, path, item)
    for key, value in item.items():
        at = (*path, key)
        if key in ("content", "summary"):
            yield from _parts(index, at, value)
        elif key == "name" and kind in ("function_call", "custom_tool_call"):
            yield from _string(index, f"{tool}.name", at, value)
        elif key in ("arguments", "input") and kind in ("function_call", "custom_tool_call"):
            yield from _string(index, f"{tool}.arguments", at, value)
        else:
            yield from walk_answer(index, f"{kind}.{key}", at, value)


def _string(index: int, name: str, path: Path, value: Any) -> Iterator[AnswerText]:
    if not isinstance(value, str):
        raise Unreadable(f"{'.'.join(map(str, path))} must be a string")
    yield AnswerText((index, name), path, value)


def response_texts(data: Any, request: dict[str, Any], *, index: int = 0,
                   path: Path = ()) -> list[AnswerText]:
    """Every string of a whole response object (echoes of the request skipped).

    Raises:
        Unreadable: a shape the gateway cannot read.
    """
    if not isinstance(data, dict):
        raise Unreadable("the response is not a JSON object")
    output = data.get("output")
    if not isinstance(output, list):
        raise Unreadable("'output' is not a list")
    out = list(object_keys(-1 if index == 0 else index, path, data))
    for key, value in data.items():
        if key == "output":
            for position, item in enumerate(value):
                out.extend(item_texts(index, position, (*path, key, position), item))
        elif key in _ECHOED and value == request.get(key):
            continue
        else:
            out.extend(walk_answer(-1 if index == 0 else index, key, (*path, key), value))
    return out


def event_texts(event: dict[str, Any], request: dict[str, Any]) -> list[AnswerText]:
    """Every string of one streamed event, keyed so deltas fill a whole answer's buffers.

    Raises:
        Unreadable: a shape the gateway cannot read.
    """
    kind = event.get("type")
    if not isinstance(kind, str) or not _EVENT_TYPE.fullmatch(kind):
        raise Unreadable("an event whose type is not a name")
    if kind in _MEDIA_EVENTS:
        raise Unreadable(f"a {kind!r} event carries speech or a picture, which the gateway "
                         "cannot check; ask for text output")
    if kind in _REPEATS:
        return response_texts(event.get("response"), request, index=ECHO, path=("response",))
    repeat = kind.endswith(".done")
    index = ECHO if repeat else 0
    position = event.get("output_index", 0)
    position = position if isinstance(position, int) and not isinstance(position, bool) else 0
    out = list(object_keys(-1, (), event))
    for key, value in event.items():
        if key == "delta" and not repeat:
            out.extend(_string(0, _delta_field(kind, position), ("delta",), value))
        elif key == "item":
            out.extend(item_texts(index, position, ("item",), value))
        elif key == "part":
            out.extend(_part(index, ("part",), value))
        elif key in ("text", "arguments", "refusal", "input") and repeat:
            out.extend(_string(ECHO, f"{kind}.{key}", (key,), value))
        elif key == "logprobs":
            out.extend(logprob_steps(ECHO if repeat else 0, (key,), value))
        elif key == "type":  # a name (see above); text in one is read apart
            if not _event_name(kind):
                out.extend(walk_answer(-1, kind, (key,), value))
        else:  # more of the answer (choice 0), read in order with its text; a repeat's apart
            out.extend(walk_answer(-1 if repeat else 0, kind, (key,), value))
    return out


#: The words of the Responses API's event names (``response.output_text.annotation.added``).
_EVENT_WORDS = frozenset({
    "response", "created", "in", "progress", "completed", "incomplete", "failed", "queued",
    "error", "output", "text", "delta", "done", "annotation", "added", "content", "part",
    "item", "function", "call", "arguments", "reasoning", "summary", "refusal", "audio",
    "transcript", "web", "search", "searching", "file", "code", "interpreter", "interpreting",
    "mcp", "list", "tools", "approval", "request", "custom", "tool", "input", "image",
    "generation", "generating", "partial", "local", "shell", "computer"})


def _event_name(kind: str) -> bool:
    """Whether an event's type is made of the API's own words, a name with no text to read.
    Read as text, the types of a stream's events ran together ("response.output_text.delta"
    after "response.output_text.annotation.added" is no repeat) and a benign answer with a
    web citation read as an injection to the contextual model (issue 8)."""
    return all(word in _EVENT_WORDS for word in re.split(r"[._:-]", kind))


def _delta_field(kind: str, position: int) -> str:
    """The field a delta of event type ``kind`` adds to. One of a type the gateway does not
    know is more of the answer's text (``content``), in the order it came: a client printing
    every event's delta shows them together, and read on their own, pieces of the answer
    split between output text and such deltas passed (a black-box pass, issue 8)."""
    if kind in ("response.function_call_arguments.delta",
                "response.custom_tool_call_input.delta", "response.mcp_call_arguments.delta"):
        return f"tool.{position:04d}.arguments"
    if kind == "response.code_interpreter_call_code.delta":
        return f"tool.{position:04d}.code"
    return {"response.output_text.delta": "content", "response.refusal.delta": "refusal",
            "response.reasoning_summary_text.delta": "reasoning_details",
            "response.reasoning_text.delta": "reasoning",
            # an audio answer's transcript: prose a client prints with the text
            "response.audio.transcript.delta": "audio",
            "response.output_audio_transcript.delta": "audio"}.get(kind, "content")
