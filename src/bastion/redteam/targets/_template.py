"""What the HTTP-based targets check and read: header values, the body template, and paths
into a JSON answer.

Every check runs when a target is built, before any request: a typo in a slot, a body that is
not JSON once filled, a header value a request cannot carry are configuration errors that say
what to fix, never a failure of every attempt. A value that may be a credential is never
quoted in a message.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from bastion.errors import ConfigError
from bastion.redteam._config import MIN_CREDENTIAL

_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # a tab is allowed in a header value
_INDEX = re.compile(r"\[(\d+)\]")
# The paths json_path reads: dotted keys and [n] indexes, optionally after "$".
_PATH = re.compile(r"\$?(?:\.?[^.\[\]'\"*?@()$]+|\[\d+\])*")
_NAMES = ("{prompt}", "{messages}", "{session_id}", "{context}", "{system}")
# A slot-like word (JSON never has one); ${NAME} is an environment variable, not a slot.
_NAMED = re.compile(r"(?<!\$)\{[A-Za-z_][A-Za-z0-9_]*\}")
# Every slot in one pass, a quoted {messages} first (the JSON array replaces the quotes too).
SLOT = re.compile(r'"\{messages\}"|\{(prompt|messages|session_id|context|system)\}')


def json_path(data: Any, path: str) -> Any:
    """Follow a dotted path (``choices.0.message.content``, ``$.a[0].b`` also works)."""
    for step in steps(path):
        if isinstance(data, list) and step.isdigit() and int(step) < len(data):
            data = data[int(step)]
        elif isinstance(data, dict) and step in data:
            data = data[step]
        else:
            raise KeyError(f"response has no {step!r} on path {path!r} ({_shape(data)})")
    return data


def steps(path: str) -> list[str]:
    """The keys and indexes of a path :func:`json_path` reads, in order."""
    return [s for s in _INDEX.sub(r".\1", path.removeprefix("$").lstrip(".")).split(".") if s]


def _shape(data: Any) -> str:
    """What a JSON value holds, for a message about a path that does not reach into it."""
    if isinstance(data, dict):
        return f"there it has keys {sorted(data)[:12]}"
    if isinstance(data, list):
        return f"there it is a list of {len(data)}"
    return f"there it is {json.dumps(data)[:60]}"


def check_path(path: str, option: str) -> None:
    """Raise a ConfigError when ``path`` uses JSONPath syntax that :func:`json_path` does not
    read (``$..answer``, ``[-1]``, ``['key']``, wildcards, filters): it would fail every
    attempt with a misleading 'response has no ...' instead."""
    if ".." in path or not _PATH.fullmatch(path):
        raise ConfigError(f"HTTP target option {option!r} {path!r} is not a path this target "
                          "reads: use dotted keys and [n] indexes, e.g. 'data.answer' or "
                          "'$.choices[0].message.content' (no '..', wildcards, filters, "
                          "negative or quoted indexes)")


def expand_env(value: str, where: str = "an HTTP target header") -> str:
    """``value`` with ``${NAME}`` replaced by environment variables (all must be set)."""
    def repl(match: re.Match[str]) -> str:
        found = os.environ.get(match.group(1))
        if found is None:
            raise ConfigError(f"environment variable {match.group(1)!r} named in {where} is "
                              "not set")
        check_header_value(found, f"environment variable {match.group(1)!r} named in {where}")
        return found
    checked = _ENV.sub(repl, value)
    check_header_value(checked, where)
    return checked


def fill_env(text: str, where: str, *, escape: Callable[[str], str] | None = None
             ) -> tuple[str, tuple[str, ...]]:
    """``text`` (a body template, an extra body field, a URL) with ``${NAME}`` filled from
    the environment, passed through ``escape`` (JSON-escaped in a JSON body, percent-encoded in
    a URL), and the values filled in, as given and as escaped: credentials a campaign never
    records. The settings keep the reference, so a log holds ``${NAME}``, never the key (a key
    written into the body itself was logged whole)."""
    used: list[str] = []

    def repl(match: re.Match[str]) -> str:
        found = os.environ.get(match.group(1))
        if found is None:
            raise ConfigError(f"environment variable {match.group(1)!r} named in {where} is "
                              "not set")
        written = escape(found) if escape else found
        used.extend((found, written))
        return written

    filled = _ENV.sub(repl, text)
    # A value this short ('1') is no key; a value needing no escape is listed once.
    return filled, tuple(dict.fromkeys(v for v in used if len(v) >= MIN_CREDENTIAL))


def json_escape(value: str) -> str:
    """``value`` escaped for a JSON string, without its quotes."""
    return json.dumps(value)[1:-1]


def check_header_value(value: str, where: str) -> None:
    """Raise a ConfigError, never showing the value, when it holds a line break or another
    control character: httpx refused it at every request with a message quoting it whole (a
    key read from a file with its newline reached the log and the terminal)."""
    if _CONTROL.search(value):
        raise ConfigError(f"{where} holds a line break or another control character, which "
                          "a header cannot carry (a key read from a file often ends in a "
                          "newline): strip it, e.g. export KEY=\"$(tr -d '\\r\\n' < key.txt)\"")


def authorization(headers: Mapping[str, str]) -> str | None:
    """The Authorization header among ``headers``, in words, or None."""
    name = next((k for k in headers if k.lower() == "authorization"), None)
    return None if name is None else f"the {name!r} header of option 'headers'"


def did_you_mean(given: str, names: Sequence[str]) -> str:
    """`` (did you mean X?)`` naming the one of ``names`` nearest ``given``; '' when none is
    near."""
    near = difflib.get_close_matches(given, names, n=1)
    return f" (did you mean {near[0]}?)" if near else ""


def check_headers(headers: Mapping[str, str]) -> None:
    """Raise a ConfigError for a slot in a header value other than ``{session_id}``: a prompt,
    a document or a conversation may hold line breaks, which a header cannot carry (and a
    slot a header does not fill was sent as written)."""
    for name, value in headers.items():
        slots = sorted({m.group(0) for m in _NAMED.finditer(value)} - {"{session_id}"})
        if slots:
            raise ConfigError(f"HTTP target header {name!r} has a slot {slots[0]}"
                              f"{did_you_mean(slots[0], ('{session_id}',))}; a header takes "
                              "only {session_id} (a prompt, a document or a conversation may "
                              "hold line breaks, which a header cannot carry): put the others "
                              "in option 'body' or 'url'")


def check_template(body: str, session_path: str, context: str,
                   system_prompt: str | None, url: str = "",
                   headers: Mapping[str, str] | None = None) -> None:
    """Raise a ConfigError for a body template (with the slots of the URL and the headers)
    that cannot work with these options."""
    both = "\n".join((url, body, *(headers or {}).values()))
    if "{prompt}" not in both and "{messages}" not in body:
        raise ConfigError("HTTP target puts the prompt nowhere: neither option 'body' nor "
                          "option 'url' has a {prompt} slot (nor the body {messages}); the "
                          "attack would never reach the target. Add one: -T 'body={\"q\": "
                          "\"{prompt}\"}', or -T 'url=https://host/api?q={prompt}'")
    unknown = sorted({m.group(0) for m in _NAMED.finditer(body)} - set(_NAMES))
    if unknown:  # sent as written: '{sesion_id}' reached the server literally
        raise ConfigError(f"HTTP target option 'body' has slots {unknown} that this target "
                          f"does not fill{did_you_mean(unknown[0], _NAMES)}; "
                          f"its slots are {', '.join(_NAMES)}")
    if body.lstrip().startswith(("{", "[")):
        check_json(body)
    if session_path and "{session_id}" not in both:
        raise ConfigError("HTTP target option 'session_path' is set but neither option "
                          "'body' nor option 'url' nor a header has a {session_id} slot to "
                          "send it back in")
    if context not in ("inline", "error"):
        raise ConfigError(f"HTTP target option 'context' must be 'inline' or 'error', not "
                          f"{context!r}")
    if "{system}" in both and not system_prompt:
        raise ConfigError("HTTP target option 'body' or 'url' has a {system} slot but option "
                          "'system_prompt' is not set; give the application's system prompt "
                          "(-T system_prompt=...) or take the slot out")


def check_json(body: str) -> None:
    """Raise a ConfigError for a JSON body that is not JSON once its slots are filled (a
    missing brace, a slot outside quotes): every request would be sent broken."""
    filled = SLOT.sub(lambda m: "[]" if m.group(1) in (None, "messages") else "x", body)
    try:
        json.loads(filled)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"HTTP target option 'body' is not JSON once its slots are filled: {exc.msg} at "
            f"character {exc.pos + 1} of {filled!r}; every request would be sent broken. "
            "Text slots take the text JSON-escaped without quotes, so write them inside "
            "quotes ('{\"q\": \"{prompt}\"}'); {messages} is a JSON array, quoted or "
            "not") from exc


def reply_text(value: Any, path: str) -> str:
    """The text at ``path`` (the reply, or the session id): a null is none (a reply was
    scored as the text 'None', a session resumed as 'None'), an object or array is its JSON
    (it was a Python repr)."""
    if value is None:
        raise ValueError(f"the answer holds null at {path!r}; point the option naming that "
                         "path at the text (or list the status that means 'blocked' in "
                         "'blocked_status', or name the field that says so in "
                         "'blocked_path')")
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
