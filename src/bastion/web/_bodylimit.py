"""A cap on the size of every request body, so no caller can make the app hold a huge one.

Starlette reads a JSON or url-encoded body whole into memory, and FastAPI reads a view's body
before the view's permission check runs; without a cap, anyone (an anonymous visitor posting
to ``/login`` or ``/apply`` included) could make the server hold hundreds of megabytes per
request. The cap is checked on the declared ``Content-Length`` before a byte is read and on
the bytes as they arrive (a chunked body declares none), and answers 413 through the app's own
error handler: a page or JSON error that says what to do, with the security headers.
"""

from __future__ import annotations

from fastapi import HTTPException
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MIB = 1024 * 1024


def too_large(limit: int) -> HTTPException:
    """The 413 a body over ``limit`` bytes gets (FastAPI's class: its body reader re-raises
    it as it is, where it turns any other exception into a vague 400)."""
    return HTTPException(413, f"the request body is larger than {limit / MIB:g} MiB, the most "
                              "this app accepts; send a smaller file or split the import")


class BodyLimit:
    """ASGI middleware: a request body over ``limit`` bytes is refused with a 413."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on with a ``receive`` that counts the body's bytes."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        over = declared.isdigit() and int(declared) > self.limit
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            if over:
                raise too_large(self.limit)
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise too_large(self.limit)
            return message

        await self.app(scope, counted, send)
