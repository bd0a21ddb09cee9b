"""The body-size limit, enforced before any route sees the request.

The declared ``Content-Length`` is checked first (a cheap early 413), but never trusted: the
body is counted while it is read, so a client that lies about its length, or sends a chunked
body with no length at all, is cut off at the limit too. Bodies are buffered (they are small
by construction) and replayed to the application.
"""

from __future__ import annotations

from typing import Literal

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bastion.serve._errors import error_response

_Refused = Literal["too_large", "disconnected"]


class BodyLimitMiddleware:
    """Answer 413 to any HTTP request whose body exceeds ``max_bytes``.

    Args:
        app: the application to protect.
        max_bytes: the largest body accepted.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the declared length, read the body up to the limit, then call the app."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        too_long = _declared_length(scope) > self.max_bytes
        body = "too_large" if too_long else await self._read(receive)
        if body == "too_large":
            response = error_response(
                413, f"request body is larger than {self.max_bytes} bytes; send fewer or "
                "shorter texts per request", code="request_too_large")
            await response(scope, receive, send)
        elif isinstance(body, bytes):
            await self.app(scope, _replay(body, receive), send)

    async def _read(self, receive: Receive) -> bytes | _Refused:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return "disconnected"
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                return "too_large"
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


def _declared_length(scope: Scope) -> int:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return 0  # h11 rejects a malformed length; in-process, the count still holds
    return 0


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
