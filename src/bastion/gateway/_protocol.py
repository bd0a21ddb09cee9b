"""uvicorn's HTTP protocol with a deadline on each request's head (request line and headers).

uvicorn times nothing out before a request's head is complete: a connection that sends
nothing, or half a head, is kept for as long as its client likes. In a black-box pass
(issue 8) one client held 19,990 connections without sending a byte, and the gateway reset
every other caller's connection until they were let go (its file descriptors were spent).
``bastion gateway run`` serves with :class:`HeadDeadline`; the body has its own deadline
(``body_timeout_s``, read by the routes).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from uvicorn.protocols.http.auto import AutoHTTPProtocol

from bastion.gateway._respond import GatewayError

#: The app state entry holding the gateway (see ``_app.create_app``'s lifespan).
GATEWAY_STATE = "bastion.gateway"
#: The deadline when the app publishes no gateway (a protocol serving another app).
DEFAULT_HEADER_TIMEOUT_S = 10.0

_Base: Any = AutoHTTPProtocol  # httptools' protocol, or h11's where httptools is missing


class HeadDeadline(_Base):  # type: ignore[misc] # uvicorn's protocols are not typed for subclassing
    """uvicorn's own HTTP protocol, closing a connection whose request head has not arrived
    ``header_timeout_s`` after the connection opened (for its first request) or after the
    first byte of the head (for each later one) with a 408. An idle kept-alive connection is
    uvicorn's to close (``keep_alive_s``), as are bytes of a next head that came before the
    response to the last one.

    Lifetime: one per connection, made by uvicorn (``http=HeadDeadline``). The deadline is
    the gateway's ``header_timeout_s``, found in the app state its lifespan fills; each
    timeout counts in ``bastion_gateway_requests_total`` as route ``unknown``, status 408.
    It is not audited: a connection that never sent a request costs its client nothing, and
    an audit event each would let it fill the audit queue.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_timer: asyncio.TimerHandle | None = None
        self._awaited: object = None  # the request cycle current when the timer was set

    def connection_made(self, transport: asyncio.Transport) -> None:
        """Start the first head's deadline."""
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        """Start a later head's deadline at its first byte; stop it once the head is in."""
        if self._head_timer is None and (self.cycle is None or self.cycle.response_complete):
            self._arm()
        super().data_received(data)
        if self._head_timer is not None and self.cycle is not self._awaited:
            self._disarm()  # a new request cycle: its head is complete

    def connection_lost(self, exc: Exception | None) -> None:
        """Forget the deadline."""
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        gateway = self.app_state.get(GATEWAY_STATE)
        deadline = gateway.config.header_timeout_s if gateway is not None else \
            DEFAULT_HEADER_TIMEOUT_S
        self._awaited = self.cycle
        self._head_timer = self.loop.call_later(deadline, self._expired, deadline)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _expired(self, deadline: float) -> None:
        self._head_timer = None
        if self.transport.is_closing() or self.cycle is not self._awaited:
            return
        gateway = self.app_state.get(GATEWAY_STATE)
        if gateway is not None:
            gateway.metrics.requests.labels("unknown", "408").inc()
        body = json.dumps(GatewayError(
            408, f"the request's line and headers did not arrive within {deadline:g} s "
            "(header_timeout_s); send them at once", code="header_timeout").body()).encode()
        self.transport.write(b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json"
                             b"\r\nconnection: close\r\ncontent-length: "
                             + str(len(body)).encode() + b"\r\n\r\n" + body)
        self.transport.close()
