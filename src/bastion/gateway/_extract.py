"""Every string of a request that can reach the model, found by path so it can be rewritten.

A request field is ``(path, text)``; ``path`` indexes into the JSON body, so the redact action
can put masked text back. The rule: every string in the body is checked, or the request is
refused. A top-level field (or message key) the gateway does not know is refused with a 400
naming it (:class:`UnknownField`) unless the operator allows it (``request.allow_fields``);
an allowed extra has every string and every unusual key inside it checked. Content the
gateway cannot read at all (image parts, token-id prompts) is refused (:class:`Unchecked`).
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, replace
from typing import Any

from bastion.classify import decode_runs, embedder_words, segment
from bastion.gateway._jsontext import reading

Path = tuple[str | int, ...]

_TEXT_PART_TYPES = frozenset({"text", "input_text", "output_text"})
_PART_TEXT_KEYS = {"refusal": "refusal", "thinking": "thinking", "reasoning": "text",
                   "summary_text": "text", "reasoning_text": "text"}
_ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})
_MESSAGE_KEYS = frozenset({"role", "content", "name", "tool_calls", "tool_call_id",
                           "function_call", "refusal", "reasoning_content", "reasoning",
                           "audio"})
_IDENTIFIER = re.compile(r"[\w.:/+=@-]{0,64}")
#: A word inside an identifier: a run of letters, camelCase cut at its capitals.
_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")
#: Most English words (of three letters or more) an identifier may hold
#: ("get_current_weather", "chat.completion.chunk").
IDENTIFIER_WORDS = 3

# Settings that never reach the model as text. Numbers and booleans pass; a string in one
# must look like an identifier ("auto", "high", "json_object"), or it is checked as text.
_CONTROL = frozenset({
    "model", "stream", "stream_options", "temperature", "top_p", "n", "max_tokens",
    "max_completion_tokens", "presence_penalty", "frequency_penalty", "logit_bias",
    "logprobs", "top_logprobs", "seed", "user", "safety_identifier", "parallel_tool_calls",
    "store", "service_tier", "reasoning_effort", "verbosity", "modalities", "audio",
    "tool_choice", "function_call", "prompt_cache_key", "top_k", "min_p",
    "repetition_penalty", "best_of", "echo", "encoding_format", "dimensions"})
# Fields whose text reaches the model, per route.
_TEXT: dict[str, frozenset[str]] = {
    "chat": frozenset({"messages", "tools", "functions", "response_format", "prediction",
                       "stop", "metadata", "web_search_options"}),
    "completions": frozenset({"prompt", "suffix", "stop", "metadata"}),
    "embeddings": frozenset({"input"}),
    "moderations": frozenset({"input"}),
    "responses": frozenset({"input", "instructions", "tools", "text", "prompt", "metadata"}),
}
_RESPONSES_CONTROL = frozenset({"include", "previous_response_id", "conversation", "reasoning",
                                "truncation", "max_output_tokens", "max_tool_calls",
                                "background"})


Special = Callable[[str, Any], "Iterator[TextField] | None"]


@dataclass(frozen=True)
class TextField:
    """One piece of text in a JSON body and where it lives.

    ``rewritable`` is false for text the gateway derived from structured data (a tool's JSON
    schema): it is checked like any other field, but masking cannot be written back into it.
    """

    path: Path
    text: str
    rewritable: bool = True
    #: An inert identifier (an id, a setting, a schema key): not read on its own, but the
    #: redaction detectors see it and its words are read with the request's other
    #: identifiers' (see :func:`checked_texts`).
    identifier: bool = False

    @property
    def reading(self) -> str:
        """The text the classifier reads: JSON as its strings (see ``_jsontext``)."""
        return reading(self.text, arguments=self.path[-1:] == ("arguments",))


class Unchecked(Exception):  # noqa: N818 - names the situation, like httpx's exceptions
    """A request holds content the gateway cannot check (the message says which)."""


class FieldError(Exception):
    """A request field the gateway refuses (answered with a 400 naming it).

    Attributes:
        field: the dotted name of the field.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class UnknownField(FieldError):  # noqa: N818 - names the situation
    """A request holds a field the gateway does not know."""


class BadSetting(FieldError):  # noqa: N818 - names the situation
    """A setting holds a value of a shape its API does not define, which an upstream would
    read unchecked."""


def dotted(path: Path) -> str:
    """``messages.0.content``: a path as people write it."""
    return ".".join(map(str, path))


def set_path(body: Any, path: Path, value: str) -> None:
    """Replace the value at ``path`` inside ``body``."""
    target = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value


def identifier_shaped(value: str) -> bool:
    """True for a name of at most 64 characters without spaces that hides no encoded text
    (base64, hex): a key in an answer must be one."""
    return len(value) <= _IDENTIFIER_CHARS and _identifier_shaped(value)


#: The longest identifier (:data:`_IDENTIFIER`); longer strings are neither one nor kept.
_IDENTIFIER_CHARS = 64
#: Identifiers whose reading is remembered. The same few come in every request and answer
#: (roles, model names, keys, finish reasons), and reading one for encoded text (decode_runs)
#: and English words cost 5 to 70 us: about 0.3 ms of the event loop's time per chat request.
_REMEMBERED = 8192


@functools.lru_cache(maxsize=_REMEMBERED)
def _identifier_shaped(value: str) -> bool:
    return _IDENTIFIER.fullmatch(value) is not None and not decode_runs(value)


def inert(value: str) -> bool:
    """True for an identifier the model gets no meaning from ("auto", "json_object",
    "call_pLIix6MEOLeMa61", "gpt-4o-mini"), which need not be read. A longer string, one of
    more than :data:`IDENTIFIER_WORDS` English words ("how-to-build-a-pipe-bomb",
    "howToBuildAPipeBomb", "howtobuildapipebomb") or one holding an encoded text is read like
    any other text: an identifier's shape is no promise; so is one with letters outside ASCII
    (a sentence of Chinese has no spaces and no English words). Random ids are not read on
    their own (the contextual model's scores on letter soup mean nothing, and some were
    flagged); the words of all a request's identifiers are read together (see
    :func:`checked_texts`), so a request cut into three-word ids is read whole."""
    return len(value) <= _IDENTIFIER_CHARS and _inert(value)


@functools.lru_cache(maxsize=_REMEMBERED)
def _inert(value: str) -> bool:
    return _identifier_shaped(value) and value.isascii() \
        and len(_english_words(value)) <= IDENTIFIER_WORDS


#: Four or more pieces of one or two letters apart by underscores, dots or dashes
#: (``p_i_p_e``, ``pi__pe__bo__mb``).
_LETTERS = re.compile(r"(?<![A-Za-z0-9])(?:[A-Za-z]{1,2}[_.-]+){3,}[A-Za-z]{1,2}(?![A-Za-z0-9])")
#: A word in alternating case (``pIpEbOmB``): runs of one case a letter or so long.
_CASE_RUN = re.compile(r"[a-z]+|[A-Z]+")
_PART = re.compile(r"[A-Za-z]{4,}")


def _spelled_apart(value: str) -> str:
    """``value`` with letters spelled apart or in alternating case joined into the words they
    run into (``p_i_p_e_b_o_m_b_steps``, ``pIpEbOmB_steps`` -> ``pipe_bomb_steps``), where
    they run into known words only (a random id in alternating case stays as it is)."""
    known = embedder_words()

    def joined(letters: str, written: str) -> str:
        words = (segment(letters.lower()) or letters.lower()).split()
        return "_".join(words) if all(len(w) >= 3 and w in known for w in words) else written

    value = _LETTERS.sub(lambda m: joined(re.sub(r"[_.-]+", "", m.group(0)), m.group(0)),
                         value)
    return _PART.sub(lambda m: joined(m.group(0), m.group(0))
                     if len(_CASE_RUN.findall(m.group(0))) * 2 >= len(m.group(0)) * 1.5
                     else m.group(0), value)


def _words(value: str) -> list[str]:
    """The words of an identifier of three letters or more, lower case, runs of words cut
    into the vocabulary's words where they can be (single letters spelled apart,
    ``p_i_p_e_b_o_m_b``, read as the words they run into: a second black-box pass)."""
    known = embedder_words()
    value = _spelled_apart(value)
    words = []
    for run in map(str.lower, _WORD.findall(value)):
        if run in known or len(run) < 10:
            words.append(run)
        else:  # words run together: cut into the vocabulary's words where it can be
            words.extend((segment(run) or run).split())
    return [w for w in words if len(w) >= 3]


def _english_words(value: str) -> list[str]:
    known = embedder_words()
    return [w for w in _words(value) if w in known]


#: Data in an identifier's shape: an address, or a long number (a card, an account, a phone
#: or social security number) written with or without single separators.
_DATA = re.compile(r"[^@\s]@[^@\s]+\.[A-Za-z]|(?:[0-9][ ._-]?){8,}[0-9]")


def data_shaped(value: str) -> bool:
    """True for a string shaped like an identifier that holds data, not a name
    (``bob@example.com``, ``4111-1111-1111-1111``): as an object's key it is read, as a
    value is, never passed as an inert identifier (``gpt-4o-2024-08-06`` is a name)."""
    return _DATA.search(value) is not None


def named_key(key: str) -> bool:
    """Whether an object's key is an inert identifier that names a field, which need not be
    read on its own: not free text, not an identifier that reads as words (see
    :func:`inert`), and no data (see :func:`data_shaped`)."""
    return inert(key) and not data_shaped(key)


def _keys(path: Path, value: dict[Any, Any]) -> Iterator[TextField]:
    """The keys of an object: those that do not name a field (:func:`named_key`) as one
    text, the others as one identifier field (neither rewritable: masking cannot rename a
    key)."""
    keys = [str(k) for k in value]
    odd = [k for k in keys if not named_key(k)]
    if odd:
        yield TextField(path, " ".join(odd), rewritable=False)
    if len(odd) < len(keys):
        yield TextField(path, " ".join(k for k in keys if named_key(k)), rewritable=False,
                        identifier=True)


#: Keys the APIs define for a content part, a tool call or a Responses input item: each
#: reader reads their values. The name of any other key is read as an object's keys are
#: (:func:`other_keys`).
_DEFINED_KEYS = frozenset({
    "type", "text", "id", "call_id", "role", "status", "content", "output", "arguments", "name",
    "input", "summary", "encrypted_content", "annotations", "logprobs", "cache_control",
    "refusal", "thinking", "signature", "function", "custom", "index", "tool_call_id",
    "action", "queries", "results", "code", "container_id", "outputs", "server_label", "tools",
    "error", "approval_request_id", "approve", "reason", "request_id"})


def other_keys(path: Path, value: dict[Any, Any]) -> Iterator[TextField]:
    """The names of the keys of ``value`` that its API does not define, read as any object's
    keys are (:func:`_keys`). Only values were read: a black-box pass (issue 8) sent the
    harmful request as the name of a content part's, a tool call's or an input item's key."""
    other = {key: None for key in value if key not in _DEFINED_KEYS}
    return _keys(path, other) if other else iter(())


#: A picture, a sound or a film written as a data URL: bytes no check can read.
MEDIA_URL = re.compile(r"\s*data:(?:image|audio|video)/", re.IGNORECASE)


def walk(path: Path, value: Any) -> Iterator[TextField]:
    """Every string inside ``value``, and the keys that are not inert identifiers.

    Raises:
        Unchecked: a string is a picture, a sound or a film (a data URL), which was read as
            text, its base64 as nothing, and sent on (a black-box pass, issue 8: a code
            interpreter call's image output in 'input').
    """
    if isinstance(value, str):
        if MEDIA_URL.match(value):
            raise Unchecked(f"{dotted(path)} is an image, audio or video (a data: URL), which "
                            "this gateway cannot check; send text")
        yield TextField(path, value)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from walk((*path, index), item)
    elif isinstance(value, dict):
        yield from _keys(path, value)
        for key, item in value.items():
            yield from walk((*path, key), item)


def control_fields(path: Path, value: Any) -> Iterator[TextField]:
    """A setting: inert identifiers are identifier fields, any other string is text."""
    for item in walk(path, value):
        yield replace(item, identifier=True) if item.rewritable and inert(item.text) else item


def part_fields(path: Path, part: Any) -> Iterator[TextField]:
    """One content part: a string, or an object of a text type (another type is refused).

    Raises:
        Unchecked: a part the gateway cannot read (a picture, a file, a sound).
    """
    if isinstance(part, str):
        yield TextField(path, part)
        return
    if not isinstance(part, dict):
        raise Unchecked(f"content part of type {type(part).__name__!r} at {dotted(path)} "
                        "cannot be checked")
    kind = type_name(path, part.get("type"))
    key = "text" if kind in _TEXT_PART_TYPES else _PART_TEXT_KEYS.get(str(kind))
    if key is None:
        raise Unchecked(f"content part {kind!r} at {dotted(path)} cannot be checked by this "
                        "gateway; send text parts only")
    if not isinstance(part.get(key), str):
        raise Unchecked(f"content part {kind!r} at {dotted(path)} needs a string {key!r}")
    yield TextField((*path, key), part[key])
    yield from other_keys(path, part)
    for name, value in part.items():  # cache_control, signature...: checked unless inert
        if name not in (key, "type"):
            yield from control_fields((*path, name), value)


def content_fields(path: Path, content: Any) -> Iterator[TextField]:
    """A message's ``content``: a string, a list of text parts, or nothing."""
    if isinstance(content, str):
        yield TextField(path, content)
    elif isinstance(content, list):
        for index, part in enumerate(content):
            yield from part_fields((*path, index), part)
    elif content is not None:
        raise Unchecked(f"{dotted(path)} must be a string or a list of parts")


def variable_fields(path: Path, variables: Any) -> Iterator[TextField]:
    """The variables a stored prompt template is filled with: each a string or a content part
    (read as a message's parts are, so a file or a picture is refused); any other shape
    string by string."""
    if not isinstance(variables, dict):
        yield from walk(path, variables)
        return
    yield from _keys(path, variables)
    for name, value in variables.items():
        yield from (part_fields if isinstance(value, dict) else walk)((*path, name), value)


def argument_fields(path: Path, value: Any) -> Iterator[TextField]:
    """Tool-call arguments: a JSON string is read as the client decodes it (its strings, its
    escapes decoded), and masked value by value; an object string by string."""
    if isinstance(value, str):
        yield TextField(path, value)
    elif value is not None:  # a JSON object: the model reads its keys and values
        yield from walk(path, value)


def _tool_call(path: Path, call: Any) -> Iterator[TextField]:
    if not isinstance(call, dict):
        raise Unchecked(f"{dotted(path)} must be a tool call object")
    yield from other_keys(path, call)
    for name, value in call.items():
        if name in ("function", "custom") and isinstance(value, dict):
            yield from other_keys((*path, name), value)
            for key, item in value.items():
                if key in ("arguments", "input"):
                    yield from argument_fields((*path, name, key), item)
                else:
                    yield from walk((*path, name, key), item)
        elif name in ("id", "type", "index"):
            yield from control_fields((*path, name), value)
        else:
            yield from walk((*path, name), value)


def message_fields(path: Path, message: Any, allow: Collection[str] = ()) -> Iterator[TextField]:
    """The text fields of one chat message (any role), in a fixed order.

    Raises:
        Unchecked: content the gateway cannot read.
        UnknownField: a message key the gateway does not know (and ``allow`` does not name).
    """
    _check_message(path, message, allow)
    yield from content_fields((*path, "content"), message.get("content"))
    for key in ("refusal", "reasoning_content", "reasoning"):
        if key in message:
            yield from walk((*path, key), message[key])
    for key in ("name", "tool_call_id"):  # a speaker's name, an id: identifiers (read with
        if key in message:  # the request's others unless they hold many words or encodings)
            yield from control_fields((*path, key), message[key])
    calls = message.get("tool_calls")
    if calls is not None and not isinstance(calls, list):
        raise Unchecked(f"{dotted((*path, 'tool_calls'))} must be a list")
    for index, call in enumerate(calls or []):
        yield from _tool_call((*path, "tool_calls", index), call)
    call = message.get("function_call")
    if isinstance(call, dict):
        yield from other_keys((*path, "function_call"), call)
        for key, item in call.items():
            yield from (argument_fields if key == "arguments" else walk)(
                (*path, "function_call", key), item)
    elif call is not None:
        raise Unchecked(f"{dotted((*path, 'function_call'))} must be an object")
    yield from _audio((*path, "audio"), message.get("audio"), allow)
    for key in message:
        if key not in _MESSAGE_KEYS:  # allowed by the operator: checked as text
            yield from walk((*path, key), message[key])


def _audio(path: Path, audio: Any, allow: Collection[str]) -> Iterator[TextField]:
    """An assistant message's ``audio``: an earlier audio answer the upstream replays by id."""
    if audio is None:
        return
    if "message.audio" not in allow:
        raise Unchecked(f"{dotted(path)} makes the upstream replay a stored audio answer this "
                        "gateway never reads (nor knows whose it is); send its transcript as "
                        "the message content, or an operator can allow it with "
                        "request.allow_fields: [message.audio]")
    yield from control_fields(path, audio)


def _check_message(path: Path, message: Any, allow: Collection[str]) -> None:
    if not isinstance(message, dict):
        raise Unchecked(f"{dotted(path)} is not a message object")
    role = message.get("role")
    if not isinstance(role, str) or role not in _ROLES:
        raise UnknownField(dotted((*path, "role")), f"{dotted((*path, 'role'))} must be one "
                           f"of {sorted(_ROLES)}, not {role!r}")
    for key in message:
        if key not in _MESSAGE_KEYS and f"message.{key}" not in allow:
            raise UnknownField(dotted((*path, key)), _unknown(dotted((*path, key)),
                                                               f"message.{key}"))


def type_name(path: Path, value: Any, default: str | None = None) -> str:
    """The ``type`` of an object in a request, which must be a string (a list or an object
    there used to end in a 500).

    Raises:
        Unchecked: any other value.
    """
    if value is None and default is not None:
        return default
    if not isinstance(value, str):
        raise Unchecked(f"{dotted((*path, 'type'))} must be a string, not "
                        f"{type(value).__name__}")
    return value


#: Hosted tools that make the upstream send the conversation to, or bring content from, a
#: place the gateway never sees (a remote MCP server, the web, a vector store), by type name;
#: dated versions (``web_search_2025_08_26``) are the same tools.
REMOTE_TOOLS = ("mcp", "web_search", "web_search_preview", "file_search", "code_interpreter")
#: Tool types whose whole definition is text the gateway reads.
READ_TOOLS = frozenset({"function", "custom"})


def refuse_remote_tool(path: Path, kind: str, allow: Collection[str]) -> None:
    """Refuse a hosted tool the operator did not name in ``request.allow_fields``.

    Raises:
        Unchecked: ``kind`` is a remote tool (or a dated version of one) not allowed.
    """
    family = next((name for name in REMOTE_TOOLS
                   if kind == name or re.fullmatch(rf"{name}_\d{{4}}_\d{{2}}_\d{{2}}", kind)),
                  None)
    if family is not None and f"tools.{family}" not in allow:
        raise Unchecked(
            f"{dotted(path)} is a {kind!r} tool: the upstream would send the conversation to, "
            "or read content from, a place this gateway cannot check; an operator can allow "
            f"it with request.allow_fields: [tools.{family}]")


def _unknown(name: str, allow_as: str) -> str:
    return (f"unknown request field {name!r}: the gateway checks every field that reaches "
            f"the model and does not know this one; remove it, or ask the operator to add "
            f"{allow_as!r} to request.allow_fields")


def tool_fields(key: str, tools: Any, allow: Collection[str], *,
                default_type: str | None = "function") -> Iterator[TextField]:
    """Tool or function definitions: names, descriptions, schemas, grammars, a list of
    objects. ``function`` and ``custom`` tools are read; a hosted tool's type is refused
    unless the operator allows it (``tools.web_search``). A tool without a type is a
    ``default_type`` one (Chat Completions); with ``None`` (Responses) it is refused.

    Raises:
        Unchecked: not a list of objects (a bare tool name, or one object, was read as text
            and sent on: a black-box pass, issue 8), or a tool type not allowed.
    """
    if not isinstance(tools, list):
        raise Unchecked(f"{key!r} must be a list of tool objects")
    for index, tool in enumerate(tools):
        if not isinstance(tool, dict):
            raise Unchecked(f"{key}.{index} must be an object, such as "
                            "{\"type\": \"function\", \"name\": ...}")
        if key == "tools":
            refuse_unread_tool((key, index), type_name((key, index), tool.get("type"),
                                                       default=default_type), allow)
        yield from definition_fields((key, index), tool)


def refuse_unread_tool(path: Path, kind: str, allow: Collection[str]) -> None:
    """Refuse a tool whose definition is not all text the gateway reads (``function``,
    ``custom``) unless the operator allows its type: a hosted tool (shell, computer use,
    image generation, search) makes the upstream act or read where the gateway cannot see.

    Raises:
        Unchecked: a remote tool (:func:`refuse_remote_tool`) or another type not allowed.
    """
    refuse_remote_tool(path, kind, allow)
    if kind not in READ_TOOLS and f"tools.{kind}" not in allow:
        raise Unchecked(f"{dotted(path)} is a {kind!r} tool: its calls run or read where this "
                        "gateway cannot check; use 'function' or 'custom' tools, or an "
                        f"operator can allow it with request.allow_fields: [tools.{kind}]")


def definition_fields(path: Path, value: Any) -> Iterator[TextField]:
    """A tool or output-format definition: every string and unusual key in it, schemas
    included, each on its own (a JSON dump of a schema reads to a model like code, not like
    the request it is, and was flagged); ``type`` values are settings."""
    if isinstance(value, dict):
        yield from _keys(path, value)
        for name, item in value.items():
            if name == "type":
                yield from control_fields((*path, name), item)
            else:
                yield from definition_fields((*path, name), item)
    else:
        yield from walk(path, value)


def _strings(path: Path, value: Any, name: str) -> Iterator[TextField]:
    if isinstance(value, str):
        yield TextField(path, value)
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        for index, item in enumerate(value):
            yield TextField((*path, index), item)
    elif value is not None:
        raise Unchecked(f"{name!r} holds token ids or other non-text input, which cannot be "
                        "checked; send text")


#: A token id as ``logit_bias`` names one: a decimal number.
_TOKEN_ID = re.compile(r"[0-9]{1,12}")


def _token_bias(value: Any) -> Iterator[TextField]:
    """``logit_bias``: token ids mapped to numbers, no text to read. Its keys were read as
    one text, and four ids joined by spaces (``5525 63944 32816 98482``) passed for a card
    number, which a key cannot be masked out of: the request was refused (issue 8). Any
    other shape is refused, as nothing in it would be read.

    Raises:
        BadSetting: not an object of token ids and numbers.
    """
    if value is None:
        return iter(())
    if not isinstance(value, dict):
        wrong = f"not {type(value).__name__}"
    else:
        key = next((k for k in value if not _TOKEN_ID.fullmatch(k)), None)
        item = next((v for v in value.values()
                     if not isinstance(v, int | float) or isinstance(v, bool)), None)
        if key is None and item is None:
            return iter(())
        wrong = f"key {key[:40]!r} is not a token id" if key is not None else \
            f"value {item!r:.40} is not a number"
    raise BadSetting("logit_bias", "'logit_bias' maps token ids (digits, as strings) to "
                     f"numbers, such as {{\"50256\": -100}}; {wrong}")


#: ``tool_choice`` types that name no hosted tool: one the request defines, or a set of them.
_CHOSEN_TYPES = frozenset({"function", "custom", "allowed_tools"})


def _tool_choice(value: Any, allow: Collection[str]) -> Iterator[TextField]:
    """``tool_choice``: a setting; one that forces a hosted tool is refused as defining it in
    'tools' is (:func:`refuse_unread_tool`): {"type": "web_search_preview"} was read as inert
    identifiers and sent on (a black-box pass, issue 8).

    Raises:
        Unchecked: a hosted tool the operator did not allow.
    """
    if isinstance(value, dict):
        kind = type_name(("tool_choice",), value.get("type"), default="function")
        if kind not in _CHOSEN_TYPES:
            refuse_unread_tool(("tool_choice",), kind, allow)
    yield from control_fields(("tool_choice",), value)


def _field(route: str, name: str, value: Any, allow: Collection[str]) -> Iterator[TextField]:
    path: Path = (name,)
    if name == "messages":
        if not isinstance(value, list):
            raise Unchecked("'messages' must be a list of message objects")
        for index, message in enumerate(value):
            yield from message_fields((name, index), message, allow)
    elif name in ("tools", "functions"):
        yield from tool_fields(name, value, allow)
    elif name == "web_search_options" and "web_search_options" not in allow:
        raise Unchecked("'web_search_options' makes the upstream search the web and read pages "
                        "this gateway never sees; an operator can allow it with "
                        "request.allow_fields: [web_search_options]")
    elif name == "response_format":
        yield from definition_fields(path, value)
    elif name == "prediction" and isinstance(value, dict):
        yield from control_fields((name, "type"), value.get("type"))
        yield from content_fields((name, "content"), value.get("content"))
        yield from walk(path, {k: v for k, v in value.items() if k not in ("type", "content")})
    elif name in ("prompt", "suffix", "input") and route != "chat":
        yield from _strings(path, value, name)
    elif name == "logit_bias":
        yield from _token_bias(value)
    elif name == "tool_choice":
        yield from _tool_choice(value, allow)
    elif name in _CONTROL:
        yield from control_fields(path, value)
    else:  # stop, metadata, web_search_options, operator-allowed extras
        yield from walk(path, value)


def request_fields(route: str, body: dict[str, Any], allow: Collection[str] = (), *,
                   special: Special | None = None) -> list[TextField]:
    """Every text field a request sends to the model.

    Args:
        route: ``chat``, ``completions``, ``embeddings``, ``moderations`` or ``responses``.
        body: the request body.
        allow: extra field names the operator lets through (checked like text).
        special: a route's own reader of a field (``None`` from it: the common reader).

    Raises:
        Unchecked: the request holds content that cannot be checked.
        UnknownField: the request holds a field the gateway does not know.
    """
    known = _TEXT.get(route, frozenset())
    control = _CONTROL | _RESPONSES_CONTROL if route == "responses" else _CONTROL
    if route == "chat" and not isinstance(body.get("messages"), list):
        raise Unchecked("'messages' must be a list of message objects")
    if route == "responses" and "input" not in body:
        raise Unchecked("'input' is required")
    fields: list[TextField] = []
    for name, value in body.items():
        if name not in known and name not in control and name not in allow:
            raise UnknownField(name, _unknown(name, name))
        own = special(name, value) if special is not None else None
        fields.extend(own if own is not None else _field(route, name, value, allow))
    return fields


#: Words of JSON Schema and of the API's own settings, which say nothing of a request.
_SCHEMA_WORDS = frozenset({
    "type", "object", "properties", "property", "string", "number", "integer", "boolean",
    "array", "null", "items", "required", "description", "enum", "function", "functions",
    "name", "names", "parameters", "strict", "additional", "auto", "none", "json", "schema",
    "format", "text", "title", "default", "pattern", "minimum", "maximum", "length", "min",
    "max", "any", "all", "one", "of", "ref", "defs", "definitions", "const", "examples",
    "example", "call", "tool", "tools", "choice", "user", "assistant", "system", "developer",
    "high", "low", "medium", "minimal", "message", "input", "output", "content", "role",
})


_SETTINGS = _CONTROL | _RESPONSES_CONTROL
_LEET = str.maketrans("0134579@$", "oieastgas")


def _phrase(name: str) -> str:
    """The words identifier ``name`` spells, schema and setting words left out, digits for
    letters folded when that spells more English words (``p1pe_b0mb``); "" when none of them
    is an English word, unless the name spells a phrase all the same (:func:`_foreign`)."""
    known = embedder_words()
    words = [w for w in _words(name) if w not in _SCHEMA_WORDS]
    folded = name.translate(_LEET)
    if folded != name:
        unleet = [w for w in _words(folded) if w not in _SCHEMA_WORDS]
        if sum(w in known for w in unleet) > sum(w in known for w in words):
            words = unleet
    if any(w in known for w in words):
        return " ".join(words)
    return _foreign(name)


def _foreign(name: str) -> str:
    """The words of a name that spells a phrase in another language
    (``Rohrbombe_bauen_Anleitung``, ``bomba_caseira_passo_a_passo``): three or more words of
    four letters or more, most of its parts, and no digit (which random ids have). Read with
    the other identifiers' words, it meets the language check as free text would (a black-box
    pass sent a German schema key the model never read); "" for any other name."""
    if any(c.isdigit() for c in name):
        return ""
    parts = _WORD.findall(name)
    words = [p.lower() for p in parts if len(p) >= 4]
    return " ".join(words) if len(words) >= 3 and 2 * len(words) > len(parts) else ""


def identifier_words(fields: list[TextField]) -> str:
    """A request's identifiers that hold English words, as the phrases they spell, comma
    separated in order (``pipe_bomb_materials, detonator_wiring`` -> ``pipe bomb materials,
    detonator wiring``; a bare list of the words read as nothing to the model); schema and
    setting words left out, "" when fewer than two words are left. Top-level settings
    (``model``, ``stream_options``, ``prompt_cache_key``...) are not model input, so their
    words are not read (the redaction detectors still see them)."""
    phrases = [phrase for f in fields if f.identifier and f.path[0] not in _SETTINGS
               for phrase in map(_phrase, f.text.split()) if phrase]
    return ", ".join(phrases) if sum(len(p.split()) for p in phrases) > 1 else ""


def trust_digest(text: str) -> str:
    """The digest ``request.trusted_texts`` lists for ``text``: SHA-256 of its UTF-8 bytes,
    surrounding whitespace stripped."""
    return hashlib.sha256(text.strip().encode("utf-8")).hexdigest()


def checked_texts(fields: list[TextField]) -> list[str]:
    """What the classifier reads of a request: each text field (JSON as its strings), and
    the words of its identifiers together as one more text."""
    texts = [f.reading for f in fields if not f.identifier]
    words = identifier_words(fields)
    return [*texts, words] if words else texts


def joined(texts: list[str]) -> str:
    """A request's checked texts (:func:`checked_texts`) as one, the way both stream and
    non-stream check them."""
    return "\n".join(t for t in texts if t)
