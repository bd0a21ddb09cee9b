"""An answer's strings, one by one: what each is, where it lies, and its keys' names.

The readers of chat answers (``_answer``), their log-probs (``_logprobs``) and Responses
events (``_responses``) all give :class:`AnswerText` items, keyed by choice and field, and
raise :class:`Unreadable` for a shape they cannot read.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from bastion.gateway._extract import MEDIA_URL, Path, identifier_shaped, inert, named_key

Key = tuple[int, str]
"""(choice index, field): ``content``, ``refusal``, ``tool.0000.name``, ``x.annotations``...

Text outside the choices (extra top-level fields) lives under choice ``-1``.
"""

NAMES = "keys"
"""The field of the names of a choice's keys that are not inert identifiers (see
:func:`object_keys`): read on their own (``_buffers.key_names``), never with the prose."""
_STRUCTURAL = frozenset({"id", "object", "created", "model", "system_fingerprint",
                         "service_tier", "type", "role", "index", "finish_reason",
                         "stop_reason", "format", "signature", "data", "expires_at",
                         "encrypted_content", "tool_call_id", "item_id", "call_id", "status",
                         "obfuscation", "created_at"})


@dataclass(frozen=True)
class AnswerText:
    """One string of an answer: whose it is, where it lives, and what follows it in a buffer.

    ``sep`` separates items that are not one running text (alternative tokens).
    """

    key: Key
    path: Path
    text: str
    sep: str = ""
    rewritable: bool = True
    """False for the names of an object's keys: read, but masking cannot rename a key."""


class Unreadable(Exception):  # noqa: N818 - names the situation
    """The upstream's answer has a shape the gateway cannot read (the message says where)."""


def where(path: Path) -> str:
    """``choices.0.message``: a path as the messages name it."""
    return ".".join(map(str, path))


def walk_answer(index: int, name: str, path: Path, value: Any) -> Iterator[AnswerText]:
    """Every string inside ``value`` as field ``x.<name>``, skipping inert identifiers."""
    if isinstance(value, str):
        if MEDIA_URL.match(value) or (path and str(path[-1]).endswith(("b64_json", "_b64"))):
            raise Unreadable(f"{where(path)} is an image, audio or video, which the gateway "
                             "cannot check; ask for text output")
        if not (path and path[-1] in _STRUCTURAL and inert(value)):
            yield AnswerText((index, f"x.{name}"), path, value)
    elif isinstance(value, list):
        for at, item in enumerate(value):
            yield from walk_answer(index, name, (*path, at), item)
    elif isinstance(value, dict):
        kind = value.get("type")
        if isinstance(kind, str) and kind in _PICTURES:
            raise Unreadable(f"{where(path)} is a picture (type {kind!r}), which the gateway "
                             "cannot check; ask for text output")
        yield from object_keys(index, path, value)
        for key, item in value.items():
            yield from walk_answer(index, name, (*path, key), item)
    elif value is not None and not isinstance(value, (bool, int, float)):
        raise Unreadable(f"{where(path)} holds a value that is not JSON")


#: Types of an answer's objects that are pictures, wherever they sit (a code interpreter's
#: output, an annotation): only a link to one was read, and the picture went on unchecked,
#: as a data: URL or OpenRouter's ``images`` is not (a black-box pass, issue 8).
_PICTURES = frozenset({"image", "image_url", "output_image", "input_image", "image_file"})


def object_keys(index: int, path: Path, value: dict[Any, Any]) -> Iterator[AnswerText]:
    """The names of the keys of an object in an answer: one of free text is refused (a client
    may show it, and free text cannot be masked as a key); those that do not name a field
    (``how_to_build_a_pipe_bomb_at_home``, ``bob@example.com``: see ``named_key``) are read,
    in field :data:`NAMES` (and masked where the policy redacts: ``_jsontext.mask_keys``).
    Every reader of an object reads its keys so: a black-box pass (issue 8) had the harmful
    answer as a key of a message, a choice, a tool call or an output item, and only values
    were read."""
    odd = []
    for key in value:
        if not isinstance(key, str) or not identifier_shaped(key):
            raise Unreadable(f"{where(path) or 'the answer'} has a key that is free text")
        if not named_key(key):
            odd.append(key)
    if odd:
        yield AnswerText((index, NAMES), path, " ".join(odd), sep=" ", rewritable=False)


def string_field(index: int, name: str, path: Path, value: Any) -> Iterator[AnswerText]:
    """``value`` as field ``name``'s text: a string, or nothing for ``null``."""
    if isinstance(value, str):
        yield AnswerText((index, name), path, value)
    elif value is not None:
        raise Unreadable(f"{where(path)} must be a string")
