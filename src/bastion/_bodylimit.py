"""A cap on a request body's size, counted as the body arrives: one for Bastion's servers.

The gateway, the API (``bastion serve``) and the web app each refuse a body over their limit,
each in its own error shape; what they share is how the body is measured, here. The declared
``Content-Length`` is checked before a byte is read (a cheap early refusal), but never
trusted: the bytes are counted as they arrive, so a client that lies about its length, or
sends a chunked body that declares none, is cut off at the limit too, not after the server
has held the whole body (a black-box pass had a 64 MiB body read whole before its 413).

:class:`BodyLimit` is the middleware (the web app's and the API's); the gateway reads its body
after the caller's key is checked, through :func:`limited` and :func:`read_body` alone.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_DIGITS = 18
"""The most digits of a declared length read as a number (10**18 bytes is an exabyte)."""


class BodyTooLargeError(Exception):
    """A body over the limit: at least ``size`` bytes where ``limit`` are allowed."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"the request body has at least {size} bytes; the limit is {limit}")
        self.size, self.limit = size, limit


def declared_length(scope: Scope) -> int | None:
    """The body's declared ``Content-Length``; ``None`` when there is none, or it is not a
    number (a real server refuses a malformed one; in process, the count still holds)."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            if not value.isdigit():
                return None
            # past 4,300 digits int() raises; past 18 it is over any limit anyway
            digits = value.lstrip(b"0")
            return int(digits or b"0") if len(digits) <= _DIGITS else sys.maxsize
    return None


def limited(scope: Scope, receive: Receive, limit: int,
            refuse: Callable[[int], Exception] | None = None) -> Receive:
    """``receive``, with the body held to ``limit`` bytes.

    The receive returned raises ``refuse(size)`` (by default :class:`BodyTooLargeError`) on its
    first call when the declared length is over the limit, before a byte is read, and as soon
    as the bytes received pass the limit; nothing more is read after that. An app passes its
    own ``refuse`` to answer in its own shape from wherever it reads the body.
    """
    declared = declared_length(scope)
    seen = 0

    def refusal(size: int) -> Exception:
        return refuse(size) if refuse is not None else BodyTooLargeError(size, limit)

    async def counted() -> Message:
        nonlocal seen
        if declared is not None and declared > limit:
            raise refusal(declared)
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise refusal(seen)
        return message

    return counted


async def read_body(receive: Receive) -> bytes:
    """The whole body ``receive`` gives.

    Raises:
        ClientDisconnect: the client left before the body ended (Starlette's, as its own
            ``Request.body`` raises).
    """
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


class BodyLimit:
    """ASGI middleware: the app reads the request body through :func:`limited`.

    Subclasses choose the error (:meth:`refuse`, raised where the app reads the body) or take
    over what is done with the held body (:meth:`guard`, which by default calls the app).

    Args:
        app: the application to protect.
        limit: the largest body accepted, in bytes.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass an HTTP request on with its body held to the limit; anything else as it is."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.guard(scope, limited(scope, receive, self.limit, self.refuse), send)

    def refuse(self, size: int) -> Exception:
        """What a body of at least ``size`` bytes, over the limit, raises."""
        return BodyTooLargeError(size, self.limit)

    async def guard(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Call the app with ``receive``, which holds the body to the limit."""
        await self.app(scope, receive, send)
