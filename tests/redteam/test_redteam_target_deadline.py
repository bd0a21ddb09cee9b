"""Option ``timeout`` is a deadline for a whole request, against a real server on loopback that
trickles its answer a byte at a time: httpx's own timeouts bound each read alone, so such a
server kept an attempt waiting for as long as it kept sending (issue 9, real targets)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler

import pytest
from tests.redteam._servers import send_once, serving

from bastion.redteam import TargetError
from bastion.redteam.targets._http import HttpTarget
from bastion.redteam.targets._openai import OpenAITarget

#: Seconds between two bytes of the trickled answer: well inside a one-second read timeout.
_GAP = 0.2
_ANSWER = json.dumps({"response": "slow " * 10,
                      "choices": [{"message": {"content": "slow"}, "finish_reason": "stop"}]})


@contextmanager
def _trickling(gap: float) -> Iterator[str]:
    """A server answering every POST with a whole JSON answer, one byte every ``gap`` s."""
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", 0)))
            body = _ANSWER.encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            try:
                for index in range(len(body)):
                    self.wfile.write(body[index:index + 1])
                    self.wfile.flush()
                    time.sleep(gap)
            except OSError:  # the client gave up: what the deadline is for
                return

        def log_message(self, format: str, *args: object) -> None:
            """Quiet."""

    with serving(Handler) as url:
        yield url


@pytest.mark.parametrize("make", [lambda url: HttpTarget(f"{url}/chat", timeout=1.0),
                                  lambda url: OpenAITarget(f"{url}/v1", timeout=1.0)],
                         ids=["http", "openai"])
def test_an_answer_trickled_past_the_timeout_is_cut_off_there(
        make: Callable[[str], HttpTarget | OpenAITarget]) -> None:
    # The answer takes len(_ANSWER) * 0.2 s, about 25 s; no single read waits a second.
    assert len(_ANSWER) * _GAP > 20
    with _trickling(_GAP) as url:
        target = make(url)
        start = time.perf_counter()
        with pytest.raises(TargetError) as info:
            send_once(target)
        took = time.perf_counter() - start
    assert took < 2.5, f"the request took {took:.1f} s against a 1 s timeout"
    assert "did not finish its answer within 1 s" in str(info.value)
    assert "-T timeout=300" in str(info.value)
    assert info.value.retryable


def test_an_answer_trickled_within_the_timeout_is_read_whole() -> None:
    with _trickling(0.0) as url:
        assert send_once(HttpTarget(f"{url}/chat", timeout=5.0)).text == "slow " * 10
