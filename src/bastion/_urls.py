"""Credentials written in URLs: one rule for every place that shows a URL or a text holding one.

A URL carries credentials in its userinfo (``postgresql://user:PASSWORD@host``, or a token
written as the user: ``https://sk-live-...@host/v1``) and in query values
(``?api_key=...``). Four places hid them, each with its own rule, and one showed a token
written as the user whole. Here is the one rule they share:

* the credential of a userinfo is its password; with no password, the user itself, unless it
  is a plain login name (``git``, ``postgres``, ``first.last``, ``ec2-user``): lowercase
  letters, ``.``, ``_`` and ``-`` and a few numbers at the ends of its parts, since a token
  has capitals or digits all through it, and words, since a token of lowercase letters only
  has no words in it (:func:`login_name`);
* a query value is a credential when its name says so (``api_key``, ``token``...) or is one
  that carries a key though its name does not say so (Azure Functions' ``code``, a shared
  access signature's ``sig``), unless it is a template, not a value (``${TOKEN}``).

:data:`USERINFO` finds userinfo in free text (an error message quoting a DSN, a prompt), and
only behind a ``scheme://``: an e-mail address in prose (``bob@example.com``, ``mailto:``) is
no URL credential. :func:`public_url` writes a configured URL with its credentials masked.

A module of its own, importing nothing of Bastion's, so that the redaction layer and the
servers share it without importing each other.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Literal
from urllib.parse import unquote, urlsplit, urlunsplit

MASK = "***"
"""What replaces a credential unless the caller names its own mask."""

USERINFO = re.compile(r"(?i)\b(?P<scheme>[a-z][a-z0-9+.-]{1,20}://)"
                      r"(?P<userinfo>[^\s:/@?#]{0,64}:[^\s@/]{0,128}|[^\s:/@?#]{1,128})@")
"""A URL's userinfo inside free text: ``user:password@`` (the password may hold ``?`` or
``#``, as hand-written DSNs do) or a lone ``token@``, right after ``scheme://``. Neither part
may hold ``/``, so an ``@`` later in a path or a query (``/@name``, ``?to=bob@example.com``)
is not read as one."""

SECRET_NAME = re.compile(r"auth|key|token|secret|cookie|passw|signature|credential", re.I)
"""Header, setting and query names whose values are credentials."""

SECRET_QUERY = frozenset({"code", "sig"})
"""Query names that carry a key though their name does not say so: Azure Functions' ``code``,
a shared access signature's ``sig``."""

TEMPLATE_MARKS = ("${", "{session_id}")
"""Marks of a value that is a template, not a credential: ``${NAME}`` names an environment
variable, ``{session_id}`` is the slot a red-team HTTP target fills; either is kept so that a
rerun can still send it."""

_LOGIN_NAME = re.compile(r"[a-z][a-z0-9._-]{0,31}")
"""At most 32 characters: the longest login name Linux's ``useradd`` and MySQL accept (glibc's
``UT_NAMESIZE``)."""

_NUMBERED_PART = re.compile(r"[a-z]*[0-9]{0,4}")
"""A part of a login name between separators, digits allowed: letters, then at most four
digits (``ec2``, ``user1``, ``web01``, ``user2024``), or digits alone (``deploy-01``)."""

_DIGIT_RUNS = 2
"""The most runs of digits a login name holds (``svc2-backup01``); a random token of letters
and digits holds more, one in every few characters."""

_NOT_A_WORD = re.compile(r"[a-z]{21}|[b-df-hj-np-tv-xz]{6}")
"""What no part of a login name between separators holds: more than 20 letters (Windows'
logon name, ``sAMAccountName``, stops at 20; ``internationalization`` is 20) or a run of six
consonants (``y`` taken as a vowel; English allows five, ``angstrom``). Measured: 40 of
WordNet's 145,000 lemmas read as tokens (``catchphrase``, ``electroencephalograph``), 1 of
5,000 initials + word (``twhttp``) and none of 5,000 ``first.last`` made of BERT's vocabulary;
of random lowercase strings, 49 % at 12 letters, 73 % at 20 and all longer ones do."""

_TOKEN_PREFIX = re.compile(r"(?:gh[pousr]_|github_pat_|gl(?:pat|dt|rt|ptt)-|xox[abprs]-"
                           r"|sk-|[sr]k_(?:live|test)_|whsec_|hf_|api_org_|npm_|pypi-|bst-)")
"""How the tokens of GitHub, GitLab, Slack, OpenAI, Stripe, Hugging Face, npm, PyPI and
Bastion begin: a user written so is a token even when the rest is lowercase letters."""


def secret_value(name: str, value: str) -> bool:
    """Whether the value of a header, setting or query parameter named ``name`` is a
    credential: its name says so and the value is no template (``Bearer ${TOKEN}``)."""
    return bool(SECRET_NAME.search(name)) and not any(mark in value for mark in TEMPLATE_MARKS)


def secret_query(name: str, value: str) -> bool:
    """Whether a query parameter (its name decoded) holds a credential."""
    return secret_value(name, value) or name in SECRET_QUERY


def userinfo_secret(userinfo: str) -> tuple[int, int] | None:
    """Where the credential of a URL's userinfo lies in it (start, end): the password after
    the first ``:``, or the whole userinfo when it is a lone token; None for a plain login
    name or an empty password."""
    user, colon, password = userinfo.partition(":")
    if colon:
        return (len(user) + 1, len(userinfo)) if password else None
    return None if not user or login_name(unquote(user)) else (0, len(userinfo))


def login_name(user: str) -> bool:
    """Whether a lone ``user`` before ``@`` reads as a login name (``git``, ``postgres``,
    ``first.last``, ``ec2-user``, ``admin2``), not a token: lowercase letters, separators and
    a few numbers (:func:`_numbered`), at most 32, made of words (:data:`_NOT_A_WORD`, read
    with the digits left out) and in no token's shape (:data:`_TOKEN_PREFIX`)."""
    return bool(_LOGIN_NAME.fullmatch(user)) and _numbered(user) \
        and not _NOT_A_WORD.search(_DIGITS.sub("", user)) and not _TOKEN_PREFIX.match(user)


_DIGITS = re.compile(r"[0-9]+")
_SEPARATORS = re.compile(r"[._-]")


def _numbered(user: str) -> bool:
    """Whether the digits of ``user`` are a login name's: each part between separators ends
    with its digits, four at most (:data:`_NUMBERED_PART`), and :data:`_DIGIT_RUNS` runs at
    most. Login names with digits were masked as tokens (``ssh://ec2-user@host``, issue 8).
    Measured (/tmp/s37/h8pieces/logins.py): 39 of 40 common names (``ec2-user``, ``web01``,
    ``centos7``, ``svc-backup01``, ...; not ``db2admin``, digits inside a part) and all of
    20,000 made of a BERT vocabulary word with digits (``word1234``, ``word-07``,
    ``jword42``, ``first.last7``) read as login names; of random base36 strings that hold a
    digit, 3.7 % at 8 characters, 0.76 % at 12, 0.11 % at 16, 0.015 % at 20 and none at 24
    or more do (letters then digits, ``sbkmuiv1``: a name's shape); of random hex strings,
    0.6 % at 8, 0.01 % at 12, none at 16 or more. (The letters-only rule reads 51 % of
    random 12-letter strings as names.)"""
    return not any(c.isdigit() for c in user) or (
        len(_DIGITS.findall(user)) <= _DIGIT_RUNS
        and all(_NUMBERED_PART.fullmatch(part) for part in _SEPARATORS.split(user)))


def mask_userinfo(userinfo: str, mask: str = MASK) -> str:
    """``userinfo`` with its credential (:func:`userinfo_secret`) written ``mask``."""
    span = userinfo_secret(userinfo)
    return userinfo if span is None else userinfo[:span[0]] + mask + userinfo[span[1]:]


def credential_spans(text: str) -> Iterator[tuple[int, int]]:
    """Where the credentials of the URLs written in ``text`` lie (start, end)."""
    for m in USERINFO.finditer(text):
        span = userinfo_secret(m.group("userinfo"))
        if span is not None:
            yield m.start("userinfo") + span[0], m.start("userinfo") + span[1]


def mask_credentials(text: str, mask: str = MASK) -> str:
    """``text`` with the credential of each URL it quotes written ``mask``
    (``cannot reach postgresql://app:***@db``), for an error message bound for a log."""
    return USERINFO.sub(lambda m: m["scheme"] + mask_userinfo(m["userinfo"], mask) + "@", text)


def url_credentials(url: str) -> list[str]:
    """The credentials a configured URL sends: its userinfo's (:func:`userinfo_secret`) as
    written and its secret query values decoded, templates included (they are filled before
    sending)."""
    parts = urlsplit(url)
    userinfo, at, _ = parts.netloc.rpartition("@")
    span = userinfo_secret(userinfo) if at else None
    found = [userinfo[span[0]:span[1]]] if span else []
    for name, _, value in (pair.partition("=") for pair in parts.query.split("&")):
        if SECRET_NAME.search(unquote(name)) or unquote(name) in SECRET_QUERY:
            found.append(unquote(value))
    return found


def public_url(url: str, *, mask: str = MASK, names: bool = True,
               query: Literal["mask", "cut"] = "mask") -> str:
    """A configured URL as a message, a log or a report may show it.

    Args:
        url: the URL as configured.
        mask: what replaces a credential.
        names: show the user name before a password, and a lone plain login name
            (``bot:***@host``); when False the whole userinfo is masked (``***@host``).
        query: ``mask`` writes each secret value (:func:`secret_query`) as ``mask`` and keeps
            the rest; ``cut`` drops the query and the fragment and marks a cut query ``?…``.
    """
    parts = urlsplit(url)
    userinfo, at, host = parts.netloc.rpartition("@")
    netloc = f"{mask_userinfo(userinfo, mask) if names else mask}@{host}" if at else host
    if query == "cut":
        return urlunsplit((parts.scheme, netloc, parts.path, "", "")) + \
            ("?…" if "?" in url else "")
    pairs = [(pair, unquote(pair.partition("=")[0])) for pair in parts.query.split("&")]
    shown = "&".join(f"{pair.partition('=')[0]}={mask}" if secret_query(name, pair) else pair
                     for pair, name in pairs) if parts.query else ""
    return urlunsplit(parts._replace(netloc=netloc, query=shown))
