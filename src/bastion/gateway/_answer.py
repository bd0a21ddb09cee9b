"""Every text-bearing field of an upstream answer, streamed or not, keyed by choice and field.

The same reader serves a whole completion and each streamed chunk, so both are checked on the
same text: content (a string or a list of parts), refusals, reasoning (``reasoning_content``,
``reasoning``, ``reasoning_details``), audio transcripts, tool and function calls, the tokens
of ``logprobs``, and any other string the upstream adds (``x.<field>``). A shape the reader
does not understand raises :class:`Unreadable`, and the answer is refused rather than
forwarded unread.
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any, TypeGuard

from bastion.gateway._arrival import Reader, is_arguments
from bastion.gateway._extract import MEDIA_URL, Path, identifier_shaped, inert, named_key
from bastion.gateway._jsontext import reading

Key = tuple[int, str]
"""(choice index, field): ``content``, ``refusal``, ``tool.0000.name``, ``x.annotations``...

Text outside the choices (extra top-level fields) lives under choice ``-1``.
"""

FIELD_ORDER = ("text", "content", "refusal", "reasoning_content", "reasoning",
               "reasoning_details", "audio", "tool", "function_call", "logprobs", "x")
PROSE = frozenset({"text", "content", "refusal", "reasoning_content", "reasoning",
                   "reasoning_details", "audio"})
"""Fields a client may print as one running text, in the order their pieces arrive."""
ARRIVAL = "arrival"
"""The buffer of a choice whose prose interleaves between fields: its pieces in the order
they came (a text split between ``content`` and ``refusal`` deltas reads as a whole only
so, and a client printing every delta shows it so)."""
CHOICES = -3
NAMES = "keys"
"""The field of the names of a choice's keys that are not inert identifiers (see
:func:`object_keys`): read on their own (:func:`key_names`), never with the prose."""
"""The choice index of a stream's prose read across its choices in the order it came (see
``_held.Held``): pieces of one answer spread over the choices asked for."""
_STRUCTURAL = frozenset({"id", "object", "created", "model", "system_fingerprint",
                         "service_tier", "type", "role", "index", "finish_reason",
                         "stop_reason", "format", "signature", "data", "expires_at",
                         "encrypted_content", "tool_call_id", "item_id", "call_id", "status",
                         "obfuscation", "created_at"})
_TEXT_PARTS = {"text": ("content", "text"), "output_text": ("content", "text"),
               "refusal": ("refusal", "refusal"),
               "thinking": ("reasoning_content", "thinking"),
               "reasoning": ("reasoning_content", "text")}


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


def _where(path: Path) -> str:
    return ".".join(map(str, path))


def walk_answer(index: int, name: str, path: Path, value: Any) -> Iterator[AnswerText]:
    """Every string inside ``value`` as field ``x.<name>``, skipping inert identifiers."""
    if isinstance(value, str):
        if MEDIA_URL.match(value) or (path and str(path[-1]).endswith(("b64_json", "_b64"))):
            raise Unreadable(f"{_where(path)} is an image, audio or video, which the gateway "
                             "cannot check; ask for text output")
        if not (path and path[-1] in _STRUCTURAL and inert(value)):
            yield AnswerText((index, f"x.{name}"), path, value)
    elif isinstance(value, list):
        for at, item in enumerate(value):
            yield from walk_answer(index, name, (*path, at), item)
    elif isinstance(value, dict):
        kind = value.get("type")
        if isinstance(kind, str) and kind in _PICTURES:
            raise Unreadable(f"{_where(path)} is a picture (type {kind!r}), which the gateway "
                             "cannot check; ask for text output")
        yield from object_keys(index, path, value)
        for key, item in value.items():
            yield from walk_answer(index, name, (*path, key), item)
    elif value is not None and not isinstance(value, (bool, int, float)):
        raise Unreadable(f"{_where(path)} holds a value that is not JSON")


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
            raise Unreadable(f"{_where(path) or 'the answer'} has a key that is free text")
        if not named_key(key):
            odd.append(key)
    if odd:
        yield AnswerText((index, NAMES), path, " ".join(odd), sep=" ", rewritable=False)


def _text(index: int, name: str, path: Path, value: Any) -> Iterator[AnswerText]:
    if isinstance(value, str):
        yield AnswerText((index, name), path, value)
    elif value is not None:
        raise Unreadable(f"{_where(path)} must be a string")


def _part(index: int, path: Path, part: Any) -> Iterator[AnswerText]:
    if isinstance(part, str):
        yield AnswerText((index, "content"), path, part)
        return
    kind = part.get("type") if isinstance(part, dict) else None
    if not isinstance(kind, str) or kind not in _TEXT_PARTS:  # a list kind is unhashable
        raise Unreadable(f"{_where(path)} is a content part of type {kind!r}, which the "
                         "gateway cannot check")
    name, key = _TEXT_PARTS[str(kind)]
    yield from object_keys(index, path, part)
    yield from _text(index, name, (*path, key), part.get(key))
    for other, value in part.items():
        if other not in (key, "type"):
            yield from walk_answer(index, "content", (*path, other), value)


def _content(index: int, path: Path, content: Any) -> Iterator[AnswerText]:
    if isinstance(content, list):  # Mistral-style parts
        for at, part in enumerate(content):
            yield from _part(index, (*path, at), part)
    else:
        yield from _text(index, "content", path, content)


def _call(index: int, tag: str, path: Path, call: Any) -> Iterator[AnswerText]:
    """One tool or function call: ``tag`` is ``tool.0003`` or ``function_call``."""
    if not isinstance(call, dict):
        raise Unreadable(f"{_where(path)} must be an object")
    yield from object_keys(index, path, call)
    for key, value in call.items():
        if key in ("function", "custom") and isinstance(value, dict):
            yield from object_keys(index, (*path, key), value)
            for part, item in value.items():
                name = {"input": "arguments"}.get(part, part)
                if name in ("name", "arguments"):
                    yield from _text(index, f"{tag}.{name}", (*path, key, part), item)
                else:
                    yield from walk_answer(index, tag, (*path, key, part), item)
        elif key in ("name", "arguments") and tag == "function_call":
            yield from _text(index, f"{tag}.{key}", (*path, key), value)
        else:
            yield from walk_answer(index, tag, (*path, key), value)


def _calls(index: int, path: Path, calls: Any, *, streamed: bool) -> Iterator[AnswerText]:
    if calls is None:
        return
    if not isinstance(calls, list):
        raise Unreadable(f"{_where(path)} must be a list")
    for at, call in enumerate(calls):
        number = call.get("index") if streamed and isinstance(call, dict) else at
        number = number if isinstance(number, int) and not isinstance(number, bool) else at
        yield from _call(index, f"tool.{number:04d}", (*path, at), call)


def _details(index: int, path: Path, details: Any) -> Iterator[AnswerText]:
    if not isinstance(details, list):
        raise Unreadable(f"{_where(path)} must be a list")
    for at, item in enumerate(details):
        if not isinstance(item, dict):
            raise Unreadable(f"{_where((*path, at))} must be an object")
        yield from object_keys(index, (*path, at), item)
        for key, value in item.items():
            if key in ("text", "summary"):
                yield from _text(index, "reasoning_details", (*path, at, key), value)
            else:
                yield from walk_answer(index, "reasoning_details", (*path, at, key), value)


def _message(index: int, path: Path, message: Any, *, streamed: bool) -> Iterator[AnswerText]:
    if not isinstance(message, dict):
        raise Unreadable(f"{_where(path)} must be an object")
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
            raise Unreadable(f"{_where(at)} holds images, which the gateway cannot check; ask "
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
        yield from _text(index, name, path, value)


def _audio(index: int, path: Path, audio: dict[str, Any]) -> Iterator[AnswerText]:
    """An audio answer's transcript; its speech cannot be checked, so audio data is refused."""
    yield from object_keys(index, path, audio)
    for part, item in audio.items():
        if part == "transcript":
            yield from _text(index, "audio", (*path, part), item)
        elif part == "data" and item:  # speech: its transcript says nothing of it
            raise Unreadable(f"{_where((*path, part))} is audio, which the gateway cannot "
                             "check (it reads the transcript, not the speech); ask for text "
                             "output")
        else:
            yield from walk_answer(index, "audio", (*path, part), item)


def _logprobs(index: int, path: Path, value: Any) -> Iterator[AnswerText]:
    """The tokens of ``logprobs`` (chat and text shapes): the text they spell, the text the
    alternatives of each rank spell across the steps (``logprobs.top.<rank>``: an answer can
    be spread over the second-best tokens as well as the best), and token bytes that say
    something other than their token."""
    if value is None:
        return
    if not isinstance(value, dict):
        raise Unreadable(f"{_where(path)} must be an object")
    yield from object_keys(index, path, value)
    for key, item in value.items():
        at = (*path, key)
        if key in ("content", "refusal") and isinstance(item, list):
            yield from logprob_steps(index, at, item)
        elif key == "tokens" and isinstance(item, list):
            for n, token in enumerate(item):
                yield from _text(index, "logprobs", (*at, n), token)
        elif key == "top_logprobs" and isinstance(item, list):
            yield from _text_alternatives(index, at, item)
        elif key not in ("token_logprobs", "text_offset") and item is not None:
            yield from walk_answer(index, "logprobs", at, item)


def logprob_steps(index: int, path: Path, steps: Any) -> Iterator[AnswerText]:
    """Chat-style (and Responses) logprobs: a list of steps, each a token with its bytes and
    its alternatives (``top_logprobs``), read as :func:`_logprobs` says."""
    if steps is None:
        return
    if not isinstance(steps, list):
        raise Unreadable(f"{_where(path)} must be a list")
    for n, step in enumerate(steps):
        if not isinstance(step, dict):
            raise Unreadable(f"{_where((*path, n))} must be an object")
        token = step.get("token")
        yield from _text(index, "logprobs", (*path, n, "token"), token)
        yield from _token_bytes(index, (*path, n, "bytes"), step.get("bytes"), token)
        yield from _step_rest(index, (*path, n), step)
        alternatives = step.get("top_logprobs") or []
        if not isinstance(alternatives, list) or not all(isinstance(a, dict)
                                                         for a in alternatives):
            raise Unreadable(f"{_where((*path, n, 'top_logprobs'))} must be a list of objects")
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
        raise Unreadable(f"{_where(path)} must be a list of bytes")
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
            raise Unreadable(f"{_where((*path, n))} must be an object")


def _alternative(index: int, rank: int, path: Path, token: Any) -> Iterator[AnswerText]:
    if not isinstance(token, str):
        raise Unreadable(f"{_where(path)} must be a string")
    yield AnswerText((index, f"logprobs.top.{rank}"), path, token)


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
            yield from _text(index, "text" if body == "text" else "content", (*path, key),
                             value)
        elif key == body:
            if not (streamed and value is None):
                yield from _message(index, (*path, key), value, streamed=streamed)
        elif key == "logprobs":
            yield from _logprobs(index, (*path, key), value)
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


def _order(key: Key) -> tuple[int, int, str, int, str]:
    """Fields of a choice in a fixed order: content first, tool names before arguments."""
    head, _, rest = key[1].partition(".")
    rank = FIELD_ORDER.index(head) if head in FIELD_ORDER else len(FIELD_ORDER)
    call, _, part = rest.rpartition(".")
    return key[0], rank, call, 0 if part == "name" else 1, key[1]


def arrives(key: Key) -> bool:
    """Whether field ``key`` is read in arrival order with the prose when fields interleave:
    the prose, a tool call's name and arguments, and any other string of a choice the reader
    has no name for (``x.<field>``; beside the choices, a chunk's own: across the choices,
    :data:`CHOICES`). A client printing every string shows such a field with the content,
    and read field by field, an answer's pieces alternating between ``delta.content`` and
    ``delta.some_unknown_key``, a tool call's arguments, an annotation of a Responses stream,
    or a whole answer's output items passed while the whole read as harmful (issue 8)."""
    head = key[1].partition(".")[0]
    return head in _ARRIVING or (head == "x" and key[0] >= -1)


_CALLS = frozenset({"tool", "function_call"})
_ARRIVING = PROSE | _CALLS


def into_call(before: str, field: str) -> bool:
    """Whether a choice's text goes on from prose into a tool call, or from a call into prose:
    read in arrival order as interleaving text is (see :func:`buffers_of`). The content, then
    a call whose arguments finish its sentence, was read field by field with the tool's name
    and the JSON between ('... build a pipe' / 'search' / 'query' / 'bomb at home.') and
    passed the keyword rules, whole or streamed (issue 8)."""
    heads = {before.partition(".")[0], field.partition(".")[0]}
    return len(heads & PROSE) == 1 and len(heads & _CALLS) == 1


def buffers_of(texts: list[AnswerText]) -> dict[Key, str]:
    """Each field's text, concatenated in order (what a stream accumulates), and the
    :data:`ARRIVAL` buffer of each choice whose text interleaves (a field :func:`arrives`
    has text again after another field had some) or goes on into a tool call
    (:func:`into_call`): its pieces as they read one after another (``_arrival.Reader``)."""
    out: dict[Key, str] = {}
    pieces: dict[int, list[tuple[str, str]]] = {}
    reader = Reader()
    for item in texts:
        out[item.key] = out.get(item.key, "") + item.text + item.sep
        if arrives(item.key) and item.key[0] >= 0 and item.text:
            pieces.setdefault(item.key[0], []).append(
                (item.key[1], reader.read(item.key, item.text) + item.sep))
    for index, ordered in pieces.items():
        fields = [name for n, (name, _) in enumerate(ordered)
                  if n == 0 or ordered[n - 1][0] != name]
        if len(fields) > len(set(fields)) or any(map(into_call, fields, fields[1:])):
            out[(index, ARRIVAL)] = "".join(text for _, text in ordered)
    return out


def reading_of(key: Key, text: str) -> str:
    """What the classifier reads of field ``key``'s text (JSON as its strings: see
    ``_jsontext.reading``)."""
    return reading(text, arguments=is_arguments(key))


def per_choice(buffers: Mapping[Key, str]) -> list[str]:
    """Each choice's fields joined (extra top-level text as one more), in a fixed order; the
    names of keys are not among them (see :func:`key_names`)."""
    by_choice: dict[int, list[str]] = {}
    for key in sorted(buffers, key=_order):
        if buffers[key] and key[1] != NAMES:
            by_choice.setdefault(key[0], []).append(reading_of(key, buffers[key]))
    return ["\n".join(parts) for _, parts in sorted(by_choice.items())]


def key_names(buffers: Mapping[Key, str]) -> list[str]:
    """The names of keys each choice holds that are not inert identifiers, one text per
    choice, to be read on their own: joined with the answer, the names of OpenRouter's usage
    fields (``upstream_inference_completions_cost``) made a benign answer read as an
    injection to the contextual model."""
    return [buffers[key] for key in sorted(buffers) if key[1] == NAMES and buffers[key]]


def embeddings_answer(data: Any, model: Any) -> dict[str, Any]:
    """An embeddings answer rebuilt from its vectors alone, so no text rides along unread.

    Only what the embeddings API defines is kept: each item's index and vector (floats, or
    base64 of float32 with ``encoding_format: base64``), the model name when it is an inert
    identifier (the requested model otherwise) and the token counts; any other field is
    dropped.

    Raises:
        Unreadable: not an embeddings answer (the message says where).
    """
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        raise Unreadable("not an embeddings answer ('data' is not a list)")
    items = []
    for at, item in enumerate(data["data"]):
        vector = item.get("embedding") if isinstance(item, dict) else None
        index = item.get("index", at) if isinstance(item, dict) else None
        if not _vector(vector) or not isinstance(index, int) or isinstance(index, bool):
            raise Unreadable(f"data.{at} is not an embedding (a vector and its index)")
        items.append({"object": "embedding", "index": index, "embedding": vector})
    named = data.get("model")
    out: dict[str, Any] = {"object": "list", "data": items,
                           "model": named if isinstance(named, str) and inert(named) else model}
    usage = data.get("usage")
    if isinstance(usage, dict):
        out["usage"] = {k: v for k, v in usage.items() if k in ("prompt_tokens", "total_tokens")
                        and isinstance(v, int) and not isinstance(v, bool)}
    return out


def models_answer(data: Any, allowed: Callable[[str], bool]) -> dict[str, Any]:
    """A model list rebuilt from the models' names, so no text rides along unread.

    Each model keeps its id (when it is an inert identifier the key may use), its creation
    time and its owner (when inert; "unknown" otherwise); descriptions, permissions and any
    other field are dropped, and a model whose name reads as text is left out.

    Raises:
        Unreadable: not a model list.
    """
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        raise Unreadable("not a model list ('data' is not a list)")
    models = []
    for at, item in enumerate(data["data"]):
        name = item.get("id") if isinstance(item, dict) else None
        if not isinstance(name, str):
            raise Unreadable(f"data.{at} is not a model (no string id)")
        if not inert(name) or not allowed(name):
            continue
        created, owner = item.get("created"), item.get("owned_by")
        models.append({"id": name, "object": "model",
                       "created": created if isinstance(created, int)
                       and not isinstance(created, bool) else 0,
                       "owned_by": owner if isinstance(owner, str) and inert(owner)
                       else "unknown"})
    return {"object": "list", "data": models}


def _vector(value: Any) -> bool:
    """True for a list of finite numbers, or base64 of float32 values."""
    if isinstance(value, list):
        return all(isinstance(x, (int, float)) and not isinstance(x, bool)
                   and math.isfinite(x) for x in value)
    if isinstance(value, str):
        try:
            return len(base64.b64decode(value, validate=True)) % 4 == 0
        except (binascii.Error, ValueError):
            return False
    return False


def reported_tokens(data: Any) -> int:
    """The answer tokens an upstream reports in an answer, a chunk or a Responses event
    (``usage.completion_tokens``, ``usage.output_tokens``, ``response.usage``), else 0."""
    return _reported(data, "completion_tokens", "output_tokens")


def reported_prompt_tokens(data: Any) -> int:
    """The prompt tokens an upstream reports, where :func:`reported_tokens` finds the
    answer's (``usage.prompt_tokens``, ``usage.input_tokens``), else 0."""
    return _reported(data, "prompt_tokens", "input_tokens")


def _reported(data: Any, name: str, other: str) -> int:
    if not isinstance(data, dict):
        return 0
    usage = data.get("usage")
    if not isinstance(usage, dict) and isinstance(data.get("response"), dict):
        usage = data["response"].get("usage")
    if not isinstance(usage, dict):
        return 0
    count = usage.get(name, usage.get(other))
    return count if counted(count) else 0
