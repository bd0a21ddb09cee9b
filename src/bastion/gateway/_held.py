"""The stream guard's bookkeeping: text per (choice, field), and frames waiting for release.

Each upstream chunk becomes a :class:`Frame` that remembers which slice of which buffer it
carried (``_frames``). A frame may leave only when every slice it carries lies in checked text
outside the held-back tail; frames leave in order. What of a chunk is read once is
``_once``'s.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

from bastion.gateway._answer import answer_texts, asked_choices
from bastion.gateway._arrival import Reader
from bastion.gateway._buffers import (
    ARRIVAL,
    CHOICES,
    PROSE,
    arrives,
    cited,
    into_call,
    key_names,
    per_choice,
)
from bastion.gateway._extract import Path, set_path
from bastion.gateway._frames import Frame, Slice
from bastion.gateway._once import metadata, repeated_name
from bastion.gateway._pieces import piece_between, piece_from
from bastion.gateway._respond import dumps
from bastion.gateway._responses import ECHO, TERMINAL, event_texts
from bastion.gateway._runs import run_begin, run_start
from bastion.gateway._said import Said
from bastion.gateway._split import (
    apart,
    continued,
    held_from,
    key_at,
    key_link_at,
    may_end_key,
    touches_key,
)
from bastion.gateway._upstream import spells_encoded
from bastion.gateway._walk import AnswerText, Key

_SENTENCE_END = re.compile(r"[.!?\u2026](?=[\s\"'\)\]])|[\u3002\uff01\uff1f\n]")


_PROSE = PROSE | {ARRIVAL}
"""Fields held back to sentence ends; the rest (tool arguments, metadata) has none."""
_RUNNING = _PROSE | {"tool", "function_call", "logprobs"}
"""Running text, whose checked end keeps a tail in hold; other fields (metadata a chunk
carries whole) leave once checked."""


class Held:
    """Buffers, check marks and the queue of frames not yet released."""

    def __init__(self, *, said: bool = False, secret: str = "") -> None:
        self.buffers: dict[Key, str] = {}
        #: The gateway's upstream key: a buffer's end that may begin it is held (``_split``),
        #: and a buffer whose head may end it, until the stream ends (:meth:`_head_end`).
        self.secret = secret
        self.settled: set[Key] = set()  # buffers whose head cannot end the key
        self.pinned: dict[Key, int] = {}  # held to the end: a key's beginning (:meth:`_pin`)
        self.apart: list[str] = []  # strings of other fields, read apart (:meth:`_apart`)
        #: Each choice's text in arrival order, kept where values are masked (see ``_said``).
        self.said = Said() if said else None
        self.reader = Reader()
        self.checked: dict[Key, int] = {}
        self.safe: dict[Key, int] = {}
        self.frames: deque[Frame] = deque()
        self.last: dict[Path, tuple[str, Slice]] = {}
        self.runs: dict[int, list[tuple[Key, int, int]]] = {}
        self.echoed: dict[str, Slice] = {}
        self.finished = False
        #: Text about to leave spelled the upstream key once decoded (:meth:`encodes_secret`):
        #: nothing more left, and the guard stops the stream.
        self.encoded = False
        #: Text about to leave held a piece of the upstream key (``_pieces``): the same.
        self.pieces = False

    def add(self, route: str, raw: str, chunk: dict[str, Any],
            request: dict[str, Any] | None = None) -> None:
        """Queue a chunk and append its texts to the buffers.

        Raises:
            Unreadable: the chunk has a shape the gateway cannot read (nothing is queued).
        """
        if route == "responses":
            frame = Frame(raw, chunk, event=str(chunk.get("type", "")),
                          to_end=chunk.get("type") in TERMINAL)
            texts = event_texts(chunk, request or {})
        else:
            frame = Frame(raw, chunk)
            texts = answer_texts(route, chunk, streamed=True,
                                 asked=asked_choices(request or {}))
        for item in texts:
            path = item.path if item.rewritable else ()  # a key's name: no place to write
            copy = self._copy(route, item)
            if copy is not None:  # read once, written back (masked) as the copy read
                frame.slices.append(Slice(copy.key, path, copy.start, copy.end))
                continue
            if self.secret and item.text and arrives(item.key):
                self._pin(item.key, item.text)
            start = len(self.buffers.get(item.key, ""))
            self.buffers[item.key] = self.buffers.get(item.key, "") + item.text + item.sep
            piece = Slice(item.key, path, start, start + len(item.text))
            frame.slices.append(piece)
            self._remember(route, item, piece)
            if self.secret and item.key[1].startswith("x.") and item.text:
                self._apart(item, start)
            if (cite := cited(item)) is not None:
                self._cite(frame, *cite)
            if arrives(item.key) and not repeated_name(item, self.buffers, start):
                read = self.reader.read(item.key, item.text)
                if item.key[0] >= 0:
                    self._arrive(frame, item, read, item.key[0], _field)
                    if self.said is not None and item.rewritable:
                        self.said.add(item.key, start, item.text)
                if route != "responses":  # (its events' indexes are no choices)
                    self._arrive(frame, item, read, CHOICES, lambda key: key[0])
        self.frames.append(frame)

    def _pin(self, key: Key, text: str) -> None:
        """Hold, until the stream ends, another field's end that begins the upstream key
        when ``text``, a piece of field ``key``, reads on as the key: released once its own
        field went on, the key's beginning left before the stream was stopped (content
        'Your token is internal', reasoning '-vllm-token-7f3a9c', more content: see
        ``StreamGuard._spelled_across``)."""
        for other, buffer in self.buffers.items():
            if other != key and other not in self.pinned and arrives(other):
                at = continued(buffer, text, self.secret)
                if at is not None:
                    self.pinned[other] = at

    def _apart(self, item: AnswerText, start: int) -> None:
        """Keep what ``item`` reads as apart (``_split.apart``: a citation's ``url`` or
        ``title``) for the check at the stream's end, and hold it, and every frame after it,
        until then when it may be part of the upstream key (``_split.touches_key``): glued in
        their field's buffer, halves of the key in two citations left one by one (issue 8)."""
        pieces = apart(item.text, item.path)
        self.apart.extend(pieces)
        if any(touches_key(piece, self.secret) for piece in pieces):
            self.pinned.setdefault(item.key, start)

    def _copy(self, route: str, item: AnswerText) -> Slice | None:
        """Where ``item``'s text was read before, when it is a copy read only once: metadata
        a server repeats in every chunk (``"provider": "..."``), and the whole answer again
        (a ``*.done`` event, the final response: appended, the copies ran together, and a
        benign answer read twice over was harmful to the contextual model, issue 8). A copy
        is written back as the text read was: dropped from the frame's slices, it left
        unmasked (an address in a repeated field, masked in the first chunk only)."""
        if metadata(route, item):
            seen = self.last.get(item.path)
            return seen[1] if seen is not None and seen[0] == item.text else None
        if item.key[0] == ECHO and item.text:
            return self.echoed.get(item.text)
        return None

    def _remember(self, route: str, item: AnswerText, piece: Slice) -> None:
        if metadata(route, item):
            self.last[item.path] = (item.text, piece)
        elif item.key[0] == ECHO and item.text:
            self.echoed[item.text] = piece

    def _cite(self, frame: Frame, key: Key, words: str) -> None:
        """Add the words of a citation's link or title to buffer ``key`` (see
        ``_buffers.cited``); the frame waits for that buffer's check too."""
        start = len(self.buffers.get(key, ""))
        self.buffers[key] = self.buffers.get(key, "") + words
        frame.slices.append(Slice(key, (), start, start + len(words)))

    def _arrive(self, frame: Frame, item: AnswerText, read: str, index: int,
                part: Callable[[Key], object]) -> None:
        """Keep the :data:`ARRIVAL` buffer of choice ``index`` once its prose interleaves:
        a ``part`` (a field of one choice; with :data:`CHOICES`, a choice of the answer) gets
        text again after another had some (reasoning, then content, is no interleaving: each
        field reads whole), or the text goes on from prose into a tool call (``into_call``).
        The frame waits for that buffer's check too.

        Across choices: with ``n`` answers asked for, one answer's pieces alternating between
        the choices, one a chunk, read as nothing choice by choice, and a client printing
        ``choices[0]`` of every chunk shows the whole (a black-box pass).

        The buffer holds each piece as ``read`` (``_arrival.Reader``: arguments as their
        JSON's values, no tool name or link between the pieces of prose)."""
        arrival = (index, ARRIVAL)
        if not item.text + item.sep:  # ("name": "" in each chunk of a call's arguments is
            return  # no interleaving)
        piece = read + item.sep
        if arrival not in self.buffers:
            runs = self.runs.setdefault(index, [])
            end = len(self.buffers[item.key])
            if runs and runs[-1][0] == item.key:
                runs[-1] = (item.key, runs[-1][1], end)
                return
            before, now = (part(runs[-1][0]), part(item.key)) if runs else (None, None)
            back = before != now and (any(part(run[0]) == now for run in runs)
                                      or into_call(str(before), str(now)))
            runs.append((item.key, end - len(item.text + item.sep), end))
            if not back:
                return
            del self.runs[index]  # the pieces before this one, in the order they came (read
            # again: kept as places in the buffers, a stream's text is not copied meanwhile)
            again = Reader()
            self.buffers[arrival] = "".join(again.read(key, self.buffers[key][start:stop])
                                            for key, start, stop in runs[:-1])
        start = len(self.buffers[arrival])
        self.buffers[arrival] += piece
        if read:
            frame.slices.append(Slice(arrival, (), start, start + len(read)))

    def due(self, window: int, *, force: bool = False, sentences: bool = False) -> list[Key]:
        """Every buffer with unchecked text, once one has ``window`` unchecked characters, or
        (with ``sentences``) a prose field has finished a sentence, or at once (``force``).

        All are checked together, so a short field (a tool name, a metadata string) never
        holds back frames that other fields made ready.
        """
        pending = {key: len(text) - self.checked.get(key, 0)
                   for key, text in self.buffers.items()}
        ready = force or any(n >= window for n in pending.values()) or (
            sentences and any(n > 0 and self._new_sentence_end(key)
                              for key, n in pending.items()))
        return [key for key, n in pending.items() if n > 0] if ready else []

    def _new_sentence_end(self, key: Key) -> bool:
        if key[1].partition(".")[0] not in _PROSE:
            return False
        return _SENTENCE_END.search(self.buffers[key],
                                    max(0, self.checked.get(key, 0) - 1)) is not None

    def mark_checked(self, key: Key, tail: int, *, release: bool = True,
                     sentence_within: int | None = None) -> None:
        """Everything in the buffer is checked; all but ``tail`` characters may leave.

        With ``release`` false nothing more may leave (the answer is held whole). With
        ``sentence_within``, released text ends at the last sentence end, unless none lies
        within that many characters (then at the last space).
        """
        length = len(self.buffers[key])
        self.checked[key] = length
        if not release:
            return
        head = key[1].partition(".")[0]
        limit = length - tail if head in _RUNNING else length
        if sentence_within is not None and head in _PROSE:
            limit = self._sentence_end(key, limit, sentence_within)
        if head in _RUNNING:  # an encoded run still arriving is held whole (see _runs)
            limit = min(limit, run_start(self.buffers[key], self.safe.get(key, 0)))
        if self.secret:
            buffer, arriving = self.buffers[key], held_from(self.buffers[key], self.secret)
            if self._shows_piece(key, arriving):
                self.pieces = True
                return
            limit = min(limit, arriving, piece_from(buffer, self.secret), self._head_end(key),
                        self.pinned.get(key, limit),
                        key_link_at(self.buffers[key], self.safe.get(key, 0), limit,
                                    self.secret))
            if key[1] == ARRIVAL:  # a reading, never written: the key it spells waits for
                # the end, which tells whether a field holds it (StreamGuard._spelled_across)
                start = max(0, self.safe.get(key, 0) - len(self.secret) + 1)
                limit = min(limit, key_at(self.buffers[key], self.secret, start))
            if limit > self.safe.get(key, 0) and self.encodes_secret([key]):
                self.encoded = True
                return
        self.safe[key] = max(self.safe.get(key, 0), limit)

    def _shows_piece(self, key: Key, end: int) -> bool:
        """Whether buffer ``key``'s text not yet released, up to ``end`` (where the whole key
        may still be arriving), holds a piece of the upstream key (``_pieces``). Not in the
        ``ARRIVAL`` reading: it glues the pieces of a key that a field holds whole, and
        writes out, with another field's text between them."""
        return key[1] != ARRIVAL and piece_between(self.buffers[key], self.secret,
                                                   self.safe.get(key, 0), end)

    def encodes_secret(self, keys: list[Key] | None = None) -> bool:
        """Whether the text of buffers ``keys`` (all without) not yet released, with the
        encoded run it ends (``_runs.run_begin``), holds the upstream key once decoded
        (base64, hex, URL escapes: ``_upstream.decoded``). Streamed a few characters a
        chunk, such a key left piece by piece, where a whole answer was withheld (issue 8);
        an encoded run is held whole until a plain word ends it (``_runs.run_start``), so it
        is read whole here before any of it leaves."""
        return bool(self.secret) and any(
            spells_encoded(text[run_begin(text, self.safe.get(key, 0)):], self.secret)
            for key, text in self.buffers.items() if keys is None or key in keys)

    def _head_end(self, key: Key) -> int:
        """0 while buffer ``key`` may begin with the end of the upstream key, which another
        field may still end with the beginning of (``_split.across``, checked at the end):
        the content carrying the key's rest, sent before the reasoning that begins it, left
        checked and benign before the cut could be seen (issue 8). The buffer's length
        once its head cannot."""
        if key not in self.settled:
            if may_end_key(self.buffers[key], self.secret) is not False:
                return 0
            self.settled.add(key)
        return len(self.buffers[key])

    def _sentence_end(self, key: Key, limit: int, within: int) -> int:
        """The last sentence end in the checked text (a finished sentence needs no tail:
        it is whole); without one, ``limit`` cut back to a space once ``within`` characters
        wait."""
        text, start = self.buffers[key], self.safe.get(key, 0)
        ends = [m.end() for m in _SENTENCE_END.finditer(text, start, len(text))]
        if ends and ends[-1] > start:
            return ends[-1]
        if limit - start < within:
            return start
        space = text.rfind(" ", start, limit)
        return space + 1 if space > start else limit

    def release_all(self) -> None:
        """After the final check: every buffer may leave in full."""
        for key, text in self.buffers.items():
            self.safe[key] = len(text)
        self.finished = True

    def releasable(self, rewrite: Callable[[Key, int, int], str] | None,
                   rename: Callable[[dict[str, Any]], object] | None = None) -> Iterator[str]:
        """Frames whose text is all safe, in order, as SSE frames.

        ``rewrite(key, start, end)`` gives the text to send for ``buffers[key][start:end]``
        (masked, restored), and ``rename(chunk)`` renames the chunk's keys in place, once its
        values are written back (their paths name the keys as they came); without either,
        frames leave as queued.
        """
        while self.frames:
            frame = self.frames[0]
            if any(s.end > self.safe.get(s.key, 0) for s in frame.slices) or (
                    frame.to_end and not self.finished):
                return
            self.frames.popleft()
            if rename is None and (rewrite is None or not frame.slices):
                yield frame.raw
                continue
            for piece in frame.slices:
                if piece.path and rewrite is not None:  # not a reading of the fields
                    # (ARRIVAL) or of keys' names
                    set_path(frame.chunk, piece.path,
                             rewrite(piece.key, piece.start, piece.end))
            if rename is not None:
                rename(frame.chunk)
            named = f"event: {frame.event}\n" if frame.event else ""
            yield named + "data: " + dumps(frame.chunk) + "\n\n"

    def choice_texts(self) -> list[str]:
        """Each choice's fields joined, in the order the non-streamed check uses."""
        return per_choice(self.buffers)

    def key_names(self) -> list[str]:
        """The names of keys each choice holds, to be read on their own (see
        :func:`_buffers.key_names`)."""
        return key_names(self.buffers)

    def total_chars(self) -> int:
        """Characters generated so far, all buffers together."""
        return sum(len(text) for text in self.buffers.values())


def _field(key: Key) -> str:
    """What counts as one field when telling whether a choice's text interleaves: a field,
    and all of a choice's tool calls as one (parallel calls streamed piece by piece, one call
    then the other, are no answer spread over fields: read in arrival order, two benign
    calls read as an injection to the contextual model)."""
    head = key[1].partition(".")[0]
    return "tool" if head in ("tool", "function_call") else key[1]
