"""The body-size cap the gateway, the API and the web app share (``bastion._bodylimit``)."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.requests import ClientDisconnect
from starlette.types import Message, Receive, Scope, Send

from bastion._bodylimit import BodyTooLargeError, declared_length, limited, read_body
from bastion.serve._limits import BodyLimitMiddleware


class Client:
    """A client sending ``chunks`` of a body, then (optionally) leaving; counts what was read."""

    def __init__(self, chunks: list[bytes], *, leaves: bool = False) -> None:
        self.chunks, self.leaves, self.read = chunks, leaves, 0

    async def receive(self) -> Message:
        if self.read == len(self.chunks):
            self.read += 1
            return {"type": "http.disconnect"}
        self.read += 1
        more = self.leaves or self.read < len(self.chunks)
        return {"type": "http.request", "body": self.chunks[self.read - 1], "more_body": more}


def request(length: bytes | None = None) -> Scope:
    headers = [] if length is None else [(b"content-length", length)]
    return {"type": "http", "method": "POST", "path": "/", "headers": headers}


@pytest.mark.anyio
async def test_a_declared_length_over_the_limit_is_refused_before_a_byte_is_read() -> None:
    client = Client([b"x" * 10])
    with pytest.raises(BodyTooLargeError) as refused:
        await read_body(limited(request(b"1001"), client.receive, 1000))
    assert (refused.value.size, refused.value.limit, client.read) == (1001, 1000, 0)


@pytest.mark.anyio
@pytest.mark.parametrize("length", [None, b"20", b"abc"], ids=["chunked", "lying", "malformed"])
async def test_a_body_is_cut_off_where_it_passes_the_limit(length: bytes | None) -> None:
    """A chunked body declares no length and a lying one too small: the count still holds,
    and nothing is read after the chunk that passes the limit (64 KiB of 1 MiB offered)."""
    client = Client([b" " * 1024] * 1024)
    with pytest.raises(BodyTooLargeError) as refused:
        await read_body(limited(request(length), client.receive, 64 * 1024))
    assert (refused.value.size, client.read) == (65 * 1024, 65)


@pytest.mark.anyio
async def test_a_body_at_the_limit_is_read_whole() -> None:
    client = Client([b"ab", b"cd", b""])
    assert await read_body(limited(request(b"4"), client.receive, 4)) == b"abcd"


@pytest.mark.anyio
async def test_an_app_refuses_in_its_own_shape() -> None:
    class RefusedError(Exception):
        pass

    with pytest.raises(RefusedError):
        await read_body(limited(request(), Client([b"x" * 5]).receive, 4, lambda _: RefusedError()))


@pytest.mark.anyio
async def test_a_client_that_leaves_mid_body_is_a_client_disconnect() -> None:
    with pytest.raises(ClientDisconnect):
        await read_body(limited(request(), Client([b"{"], leaves=True).receive, 1000))


def test_a_length_of_thousands_of_digits_is_over_any_limit_not_a_crash() -> None:
    """``int()`` raises past 4,300 digits: that was a 500 where a 413 is due."""
    assert declared_length(request(b"9" * 5000)) > 10**18
    assert declared_length(request(b"0" * 5000 + b"7")) == 7
    assert declared_length(request(b"-1")) is None


@pytest.mark.anyio
async def test_the_api_answers_no_one_who_left_mid_body() -> None:
    """``bastion serve`` buffers a body before its routes run; a client gone before the end
    gets nothing sent and the app is never called."""
    called: list[Scope] = []
    sent: list[Message] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        called.append(scope)

    async def send(message: Message) -> None:
        sent.append(message)

    middleware: Any = BodyLimitMiddleware(app, max_bytes=1000)
    await middleware(request(), Client([b"{"], leaves=True).receive, send)
    assert (called, sent) == ([], [])
