"""Real HTTP(S) servers on loopback for the target tests (TLS, timeouts), and one send."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import anyio

from bastion.redteam import Message, Reply, Target


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler], tls: ssl.SSLContext | None = None
            ) -> Iterator[str]:
    """Serve ``handler`` on 127.0.0.1 and a free port (over TLS with ``tls``); yield the
    server's root URL."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    if tls is not None:
        httpd.socket = tls.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"{'https' if tls else 'http'}://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def send_once(target: Target) -> Reply:
    """``target``'s reply to one user message, its connections closed after."""
    async def go() -> Reply:
        async with target:
            return await target.send([Message("user", "hi")])

    return anyio.run(go)
