"""The body-size limit, enforced before any route sees the request.

The body is read through :class:`bastion._bodylimit.BodyLimit`, which the web app shares (and
the gateway its counting): the declared ``Content-Length`` is checked first (a cheap early
413), but never trusted, so a client that lies about its length, or sends a chunked body with
no length at all, is cut off at the limit too. Bodies are buffered (they are small by
construction) and replayed to the application; a client that leaves before its body ends gets
no answer.
"""

from __future__ import annotations

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bastion._bodylimit import BodyLimit, BodyTooLargeError, read_body
from bastion.serve._errors import error_response


class BodyLimitMiddleware(BodyLimit):
    """Answer 413 to any HTTP request whose body exceeds ``max_bytes``.

    Args:
        app: the application to protect.
        max_bytes: the largest body accepted.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        super().__init__(app, max_bytes)

    async def guard(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Read the body up to the limit, then call the app with it."""
        try:
            body = await read_body(receive)
        except BodyTooLargeError:
            response = error_response(
                413, f"request body is larger than {self.limit} bytes; send fewer or "
                "shorter texts per request", code="request_too_large")
            await response(scope, receive, send)
        except ClientDisconnect:
            return
        else:
            await self.app(scope, _replay(body, receive), send)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
