"""Server-sent events from an upstream: read in a task, parsed into events, never trusted.

The reader runs as its own task and hands events over a queue, so the stream guard can wait
for the next event with a deadline (to check held text when the upstream stalls) without
cancelling a read half-way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Literal

import httpx

EventKind = Literal["data", "done", "end", "fail"]
logger = logging.getLogger("bastion.gateway")


@dataclass(frozen=True)
class Event:
    """One thing the upstream did: sent data, sent ``[DONE]``, closed, or failed."""

    kind: EventKind
    data: str = ""


_LINE_END = re.compile(r"\r\n|\r|\n")


async def sse_lines(chunks: AsyncIterator[str]) -> AsyncIterator[str]:
    """The lines of an event stream. SSE ends lines with CR, LF or CRLF only; httpx's
    ``aiter_lines`` also breaks at U+2028, U+2029, U+0085 and other Unicode line ends, which
    JSON may hold raw inside a string, and the event was cut in two (not JSON)."""
    buffer = ""
    async for chunk in chunks:
        scan_from = max(len(buffer) - 1, 0)  # what came before holds no line end but a CR
        buffer += chunk
        start = 0
        while (match := _LINE_END.search(buffer, max(start, scan_from))) is not None:
            if match.group(0) == "\r" and match.end() == len(buffer):
                break  # a CR at the end of a chunk may be the first half of a CRLF
            yield buffer[start:match.start()]
            start = match.end()
        buffer = buffer[start:]
    if buffer:
        yield buffer.removesuffix("\r")


async def events(lines: AsyncIterator[str]) -> AsyncIterator[Event]:
    """Parse SSE lines into events (``data`` joined by newlines; comments dropped)."""
    data: list[str] = []
    async for raw in lines:
        line = raw.rstrip("\r")
        if line == "":
            if data:
                text = "\n".join(data)
                data = []
                yield Event("done") if text.strip() == "[DONE]" else Event("data", text)
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        if name == "data":
            data.append(value[1:] if value.startswith(" ") else value)
    if data:
        text = "\n".join(data)
        yield Event("done") if text.strip() == "[DONE]" else Event("data", text)


class EventReader:
    """Reads an upstream response's events into a queue from a background task.

    Lifetime: one stream; :meth:`close` cancels the task. Failure: a transport error or a
    timeout becomes a ``fail`` event carrying its type name, then the reader stops.
    """

    def __init__(self, response: httpx.Response) -> None:
        # Event streams are UTF-8 whatever charset the header names (the SSE standard); a
        # stream in anything else fails as undecodable instead of being read another way.
        response.encoding = "utf-8"
        self._queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=256)
        self._task = asyncio.create_task(self._read(response))

    async def _read(self, response: httpx.Response) -> None:
        try:
            async for event in events(sse_lines(response.aiter_text())):
                await self._queue.put(event)
                if event.kind == "done":
                    return
            await self._queue.put(Event("end"))
        except httpx.TimeoutException:
            await self._queue.put(Event("fail", "the upstream stopped sending (read timeout)"))
        except (httpx.HTTPError, UnicodeError) as exc:
            await self._queue.put(Event("fail", f"the upstream stream broke "
                                        f"({type(exc).__name__})"))
        except Exception as exc:  # any other failure must still end the stream, never hang it
            logger.exception("reading the upstream stream failed")
            await self._queue.put(Event("fail", f"the upstream stream could not be read "
                                        f"({type(exc).__name__})"))

    async def next(self, timeout: float) -> Event | None:
        """The next event, or ``None`` when none came within ``timeout`` seconds."""
        try:
            return await asyncio.wait_for(self._queue.get(), timeout)
        except TimeoutError:
            return None

    async def close(self) -> None:
        """Stop reading."""
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
