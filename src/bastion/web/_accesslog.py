"""Keep secrets out of the web app's access log, and keep what a defender reads there.

uvicorn's access log (on at ``bastion web run``'s ``info`` level) writes each request's path
with its query string. A set-password link (``/set-password?token=...``) is a credential for
seven days, and a client may send a key anywhere: ``?access_token=``, ``?apikey=``, a token
under an ordinary name (``?q=ghp_...``), or in the path (``/sk-proj-.../x``). All were
written in clear while only six exact parameter names were masked.

The path: a segment is shown when it is what the app's own routes hold, anything else is
written ``***`` (:func:`bastion.serve._logs.scrub_path`, as the gateway's log does):

- lower-case words joined by ``-``, ``_`` or ``.`` with at most 8 digits in all: route words
  (``findings-import``, ``applications``), policy ids (``prompt_injection``), static files
  (``htmx-2.0.11.min.js``). Keys mix case or run digits and letters together; a card number,
  a phone number or an SSN has more digits, however it is split;
- numbers of up to 8 digits (``/findings/123``, ``/versions/3``);
- the app's random ids (``user_`` + 20 hex digits, ``eng_`` + 16): they name the row a
  request touched, and grant nothing.

The query: a parameter whose name says it holds a credential (any name containing ``token``,
``key``, ``secret``, ``pass``, ``auth``, ``session``, ``sig``, ``code``, ``cred``...: masking
``keyword``'s value too is the price) has its value written ``***``; so has a value the
product's detectors flag (:class:`bastion.redact.Detectors`: keys of known formats, card
numbers, e-mail addresses...) or that looks random (16 characters or more mixing two of
lower case, upper case and digits), and a value longer than :data:`MOST_CHARS`. A value that
is a path (``next=/findings/12``) is shown as a path is. Names that are not plain are
written ``***`` too. The detectors read at most :data:`MOST_QUERY_CHARS` of a query, in at
most :data:`MOST_PARAMS` values, since the line is written on the event loop for every
request.
"""

from __future__ import annotations

import re
from functools import cache, partial
from urllib.parse import unquote_plus

from bastion.redact import Detectors
from bastion.serve._logs import MASK, MOST_CHARS, is_word, scrub_access_log, scrub_path

MOST_PARAMS = 20
"""The most query parameters shown; more are cut (``&…``)."""
MOST_QUERY_CHARS = 4 * MOST_CHARS
"""The longest query string read; a longer one is cut after its last whole parameter within
it (``&…``). The detectors take up to ~4 ms on a 200-character value."""

_PART = r"(?:[a-z]{1,16}\d{0,2}|\d{1,8})"
_SLUG = re.compile(rf"{_PART}(?:[-_.]{_PART})*")
_MOST_DIGITS = 8
_ID = re.compile(r"[a-z]{2,5}_[0-9a-f]{16,20}")
"""The app's random ids (``user_``, ``sess_``, ``pv_``, ``eng_``, ``app_``, ``prop_``,
``acct_``, ``key_`` and hex digits): a key's public id, never the key."""
_SECRET_NAME = re.compile(r"(?i)token|key|secret|pass|pwd|auth|session|sig|code|cred|jwt"
                          r"|bearer|cookie|otp|nonce|salt|private")
_RUN = re.compile(r"[A-Za-z0-9+/=_.~-]{16,}")
_CLASSES = (re.compile(r"[a-z]"), re.compile(r"[A-Z]"), re.compile(r"\d"))
_MOST_NAME_CHARS = 40


def shown_segment(segment: str) -> bool:
    """Whether a path segment (or a plain value) is one the app's routes hold: a word, a
    slug with at most 8 digits, or one of the app's ids."""
    if is_word(segment) or _ID.fullmatch(segment):
        return True
    return _SLUG.fullmatch(segment) is not None \
        and sum(char.isdigit() for char in segment) <= _MOST_DIGITS


def looks_secret(text: str) -> bool:
    """Whether ``text`` holds something the product's detectors flag, or a run that looks
    random (a key of a format no detector knows)."""
    for run in _RUN.findall(text):
        if not shown_segment(run) and sum(bool(c.search(run)) for c in _CLASSES) >= 2:
            return True
    return bool(_detectors().find(text))


@cache
def _detectors() -> Detectors:
    """National phone formats off: ids and counts are digits, and any region's format would
    flag some of them."""
    return Detectors(phone_region=None)


def scrub_query(query: str) -> str:
    """A query string as the access log may show it: see the module's docstring."""
    cut = len(query) > MOST_QUERY_CHARS
    params = (query[:MOST_QUERY_CHARS].rsplit("&", 1)[0] if cut else query).split("&")
    shown = [_param(param) for param in params[:MOST_PARAMS]]
    return "&".join(shown) + ("&…" if cut or len(params) > MOST_PARAMS else "")


def _param(param: str) -> str:
    raw_name, equals, raw_value = param.partition("=")
    name, value = unquote_plus(raw_name), unquote_plus(raw_value)
    if len(name) > _MOST_NAME_CHARS or looks_secret(name):
        return MASK + equals + (MASK if raw_value else "")
    if not raw_value:
        return param
    if value.startswith("/") and not value.startswith("//"):
        return f"{raw_name}={scrub_path(value, keep=shown_segment)}"
    if _SECRET_NAME.search(name) or len(value) > MOST_CHARS or looks_secret(value):
        return f"{raw_name}={MASK}"
    return param


scrub_web_path = partial(scrub_path, keep=shown_segment, query=scrub_query)
"""A web request's path and query as the access log may show them."""


def mask_access_log() -> None:
    """Write the paths of uvicorn's access log as :data:`scrub_web_path` does (replacing the
    filter of an app built before in this process)."""
    _detectors()  # built now, not on the event loop at the first request
    scrub_access_log(scrub_web_path)
