"""Slots in an HTTP target's URL: ``GET https://bot.example/api?q={prompt}``, or a
conversation in the path, ``https://bot.example/sessions/{session_id}/ask``.

The URL takes the text slots the body takes (``{prompt}``, ``{session_id}``, ``{context}``,
``{system}``), as promptfoo's HTTP provider templates its ``url`` and garak's REST generator
sends a GET's input in the query. Each value is percent-encoded whole (``quote(value,
safe="")``): in the query a prompt's ``&``, ``=``, ``+`` or ``#`` would begin another field,
read as a space or end the URL; in the path a ``/`` or ``?`` would move it to another route.
A value that is only dots is written ``%2E``, or ``..`` would be read as the folder above
(clients and servers resolve dot segments). ``{messages}``, a JSON array, goes in the body.

Slots in the host or the fragment (which is never sent) are refused, as is a ``{session_id}``
in the path that the server names in its first answer (the first request would have none: the
path would read ``/sessions//ask``). ``${NAME}`` is filled from the environment, encoded the
same way, and never logged.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import quote

from bastion.errors import ConfigError
from bastion.redteam.targets._template import did_you_mean, fill_env

# A slot the URL fills; {messages} and unknown slot-like words are refused by check_url.
_SLOT = re.compile(r"\{(prompt|session_id|context|system)\}")
_NAMED = re.compile(r"(?<!\$)\{[A-Za-z_][A-Za-z0-9_]*\}")
_NAMES = ("{prompt}", "{session_id}", "{context}", "{system}")
_BODY = '{"prompt": "{prompt}"}'


def _parts(url: str) -> tuple[str, str, str, str]:
    """``url`` cut into its scheme and host, path, query (with its ``?``) and fragment (with
    its ``#``)."""
    start = url.find("://") + 3
    ends = [i for i in (url.find(c, start) for c in "/?#") if i >= 0]
    host_end = min(ends, default=len(url))
    fragment = url.find("#", host_end)
    fragment = len(url) if fragment < 0 else fragment
    query = url.find("?", host_end, fragment)
    query = fragment if query < 0 else query
    return url[:host_end], url[host_end:query], url[query:fragment], url[fragment:]


def check_url(url: str, session_path: str) -> None:
    """Raise a ConfigError for slots in ``url`` that cannot work (see the module docstring)."""
    named = [m.group(0) for m in _NAMED.finditer(url)]
    if "{messages}" in named:
        raise ConfigError("HTTP target option 'url' has a {messages} slot, but the "
                          "conversation is a JSON array: put {messages} in option 'body' "
                          "(method POST), or {prompt} and {session_id} in the URL")
    unknown = sorted(set(named) - set(_NAMES))
    if unknown:
        raise ConfigError(f"HTTP target option 'url' has slots {unknown} that this target "
                          f"does not fill{did_you_mean(unknown[0], _NAMES)}; its URL slots "
                          f"are {', '.join(_NAMES)}")
    host, path, _, fragment = _parts(url)
    for part, where in ((host, "its host"), (fragment, "its fragment (after '#', never sent)")):
        if _SLOT.search(part):
            raise ConfigError(f"HTTP target option 'url' has a slot in {where}; put slots in "
                              "the path or the query (https://host/api?q={prompt})")
    if session_path and "{session_id}" in path:
        raise ConfigError("HTTP target option 'url' has {session_id} in its path, but with "
                          "option 'session_path' the server names the id in its first answer, "
                          "so the first request would have none; put {session_id} in the "
                          "query (?session={session_id}) or the body, or leave 'session_path' "
                          "empty for Bastion to make the ids")


def default_body(method: str, url: str) -> str:
    """The body when option 'body' is left out: none when ``url`` carries ``{prompt}``,
    else ``{"prompt": "{prompt}"}``; for a GET or DELETE, a ConfigError (a URL that lost its
    slot was sent a JSON body nobody asked for, which many servers and proxies drop)."""
    if "{prompt}" in url:
        return ""
    if method.upper() in ("GET", "DELETE"):
        raise ConfigError(f"HTTP target option 'method' is {method.upper()}, but option 'url' "
                          f"has no {{prompt}} slot and option 'body' is not given: a "
                          f"{method.upper()} carries the prompt in its URL; add it "
                          "(-T 'url=https://host/api?q={prompt}'), or give -T body=... if "
                          "the API reads this method's body")
    return _BODY


def expand_url(url: str) -> tuple[str, tuple[str, ...]]:
    """``url`` with ``${NAME}`` filled from the environment, percent-encoded, and the values
    filled in (credentials a campaign never records)."""
    return fill_env(url, "HTTP target option 'url'", escape=lambda v: quote(v, safe=""))


def fill_url(url: str, values: Mapping[str, str]) -> str:
    """``url`` (expanded) with its slots filled by ``values``, each percent-encoded whole."""
    host, path, query, fragment = _parts(url)
    return (host + _SLOT.sub(lambda m: _segment(values[m.group(1)]), path)
            + _SLOT.sub(lambda m: quote(values[m.group(1)], safe=""), query) + fragment)


def _segment(value: str) -> str:
    """``value`` encoded for a path: a value of dots alone keeps them encoded, as ``%2E``."""
    return quote(value, safe="") if value.strip(".") else value.replace(".", "%2E")

