"""Pieces of an answer's fields as they read one after another, in the order they came.

Where a choice's text interleaves over fields, the gateway reads it in arrival order too
(``_buffers.arrives``), as a client printing every piece shows it. Joined raw, the pieces of
an answer spread between the content and other fields had noise between them that a client
shows apart or not at all: the JSON of a tool call's arguments (``{}`` beside each tool name
that carried a piece), the link beside each annotation title that carried one. The keyword
rules read 'pi{}pe' or 'buil https://example.com/a d' as nothing (the contextual model read
the whole; issue 8). :class:`Reader` gives each piece as a reader reads it: arguments as the
string values of their JSON, a tool's name that is an inert identifier and a link as
nothing. Every field is still read whole on its own.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

from bastion.gateway._extract import inert, named_key

if TYPE_CHECKING:
    from bastion.gateway._walk import Key

Span = tuple[int, int]
"""Where a character read lies in its field's buffer (start, end); a space put between two
values lies nowhere (start == end)."""

#: A string that is one link and nothing else (an annotation's url).
_LINK = re.compile(r"\s*[A-Za-z][A-Za-z0-9+.-]*://\S*\s*")


def is_arguments(key: Key) -> bool:
    """Whether field ``key`` holds a tool call's arguments (JSON text to the client)."""
    return key[1].endswith(".arguments")


class Reader:
    """Each piece of a choice's fields as it reads in arrival order (see the module).

    Lifetime: one answer or one stream (a tool call's arguments are read piece by piece).
    """

    def __init__(self) -> None:
        self._values: dict[Key, Values] = {}

    def read(self, key: Key, text: str) -> str:
        """The piece ``text`` of field ``key`` as it reads among the others."""
        if is_arguments(key):
            read = self._values.setdefault(key, Values(keys=True, lead=True)).feed(text, 0)[0]
        else:
            name = key[1].endswith(".name") and inert(text)  # names a function: 'search'
            link = key[1].startswith("x.") and _LINK.fullmatch(text) is not None
            read = "" if name or link else text
        if read:  # the next value of other arguments goes on from this text, with no space
            for other, values in self._values.items():
                values.joined = values.joined or other != key
        return read


class Values:
    """The string values of JSON text that arrives in pieces (a tool call's arguments), as a
    reader reads them: punctuation left out, a space between two values, escapes decoded.
    Text that does not open as JSON is taken as it is.

    Args:
        keys: read the keys that name no field too (``how_to_build``, not ``city``: see
            ``_extract.named_key``), each before its value.
        lead: a space before the first value too (the arguments begin a text of their own).
    """

    def __init__(self, *, keys: bool = False, lead: bool = False) -> None:
        self.keys, self.lead = keys, lead
        self.json: bool | None = None
        self.stack: list[str] = []
        self.key_next = False
        self.string: bool | None = None  # inside a key (True), a value (False), or neither
        self.key: list[tuple[str, Span]] = []  # the key read so far, when keys are read
        #: Other text came between the last string read and the next one (see ``Reader``):
        #: a value cut in two around a piece of the content goes on with no space.
        self.joined = False
        self.escape = ""
        self.escape_at = 0
        self.values = 0

    def feed(self, text: str, at: int) -> tuple[str, list[Span]]:
        """What ``text``, which lies at ``at`` in the field's buffer, reads as, and where
        each character of that lies."""
        out: list[tuple[str, Span]] = []
        for n, char in enumerate(text):
            if self.json is None and not char.isspace():
                self.json = char in '{["'
            if self.json is False:
                out.append((char, (at + n, at + n + 1)))
            elif self.escape or (self.string is not None and char == "\\"):
                self._escaped(char, at + n, out)
            elif self.string is not None and char == '"':
                self._closed(at + n, out)
            elif self.string is not None:
                self._read(char, (at + n, at + n + 1), out)
            else:
                self._outside(char, at + n, out)
        return "".join(char for char, _ in out), [span for _, span in out]

    def _read(self, text: str, span: Span, out: list[tuple[str, Span]]) -> None:
        """A string's character(s): a value's are read, a key's kept until it closes."""
        if self.string is False:
            out.extend((char, span) for char in text)
        elif self.keys:
            self.key.extend((char, span) for char in text)

    def _escaped(self, char: str, at: int, out: list[tuple[str, Span]]) -> None:
        if not self.escape:
            self.escape, self.escape_at = char, at
            return
        self.escape += char
        if len(self.escape) < (6 if self.escape[1] == "u" else 2):
            return
        try:
            decoded = json.loads(f'"{self.escape}"')
        except ValueError:
            decoded = self.escape
        self._read(decoded, (self.escape_at, at + 1), out)
        self.escape = ""

    def _closed(self, at: int, out: list[tuple[str, Span]]) -> None:
        """A string ends: a key that names no field is read now, as a value is."""
        if self.string and self.key and not named_key("".join(c for c, _ in self.key)):
            self._space(at, out)
            out.extend(self.key)
        self.key = []
        self.string = None

    def _space(self, at: int, out: list[tuple[str, Span]]) -> None:
        """The space before a string read: after the first, unless other text came between
        (``joined``); before the first with ``lead``."""
        if (self.values and not self.joined) or (self.lead and not self.values):
            out.append((" ", (at, at)))
        self.values += 1
        self.joined = False

    def _outside(self, char: str, at: int, out: list[tuple[str, Span]]) -> None:
        if char in "{[":
            self.stack.append(char)
            self.key_next = char == "{"
        elif char in "}]":
            self.stack[-1:] = []
            self.key_next = False
        elif char in ",:":
            self.key_next = char == "," and self.stack[-1:] == ["{"]
        elif char == '"':
            self.string = self.key_next
            self.key_next = False
            if not self.string:
                self._space(at, out)
