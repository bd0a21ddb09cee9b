"""A cap on the size of every request body, so no caller can make the app hold a huge one.

Starlette reads a JSON or url-encoded body whole into memory, and FastAPI reads a view's body
before the view's permission check runs; without a cap, anyone (an anonymous visitor posting
to ``/login`` or ``/apply`` included) could make the server hold hundreds of megabytes per
request. The cap is checked on the declared ``Content-Length`` before a byte is read and on
the bytes as they arrive (a chunked body declares none; :mod:`bastion._bodylimit` counts, as
for the gateway and the API), and answers 413 through the app's own error handler: a page or
JSON error that says what to do, with the security headers.
"""

from __future__ import annotations

from fastapi import HTTPException

from bastion import _bodylimit

MIB = 1024 * 1024


def too_large(limit: int) -> HTTPException:
    """The 413 a body over ``limit`` bytes gets (FastAPI's class: its body reader re-raises
    it as it is, where it turns any other exception into a vague 400)."""
    return HTTPException(413, f"the request body is larger than {limit / MIB:g} MiB, the most "
                              "this app accepts; send a smaller file or split the import")


class BodyLimit(_bodylimit.BodyLimit):
    """ASGI middleware: a request body over ``limit`` bytes is refused with a 413, raised
    where the app reads the body, so the app's own error handler answers it."""

    def refuse(self, size: int) -> HTTPException:
        """The 413 of :func:`too_large`."""
        return too_large(self.limit)
