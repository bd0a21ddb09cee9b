"""Run a scripted model on a real loopback socket, in a background thread."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from bastion.testing._app import create_app
from bastion.testing._script import ScriptedChatModel


@contextmanager
def serve_on_loopback(
    model: ScriptedChatModel | None = None, *, startup_timeout: float = 10.0,
) -> Iterator[str]:
    """Serve ``model`` with uvicorn on 127.0.0.1 and a free port; yield its base URL.

    The URL ends in ``/v1``, as OpenAI-compatible clients expect. On exit the server stops;
    requests still in flight get one second to finish.

    Raises:
        RuntimeError: the server did not start within ``startup_timeout`` seconds.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))  # port 0: the OS picks a free port, no race with other tests
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(model or ScriptedChatModel()), log_config=None, log_level="warning",
        access_log=False, lifespan="off", ws="none", timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]},
                              name=f"scripted-model-{port}", daemon=True)
    thread.start()
    try:
        _wait_started(server, thread, startup_timeout)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        server.should_exit = True
        thread.join(timeout=startup_timeout)
        sock.close()


def _wait_started(server: uvicorn.Server, thread: threading.Thread, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"scripted model server did not start within {timeout}s; "
                               "see the uvicorn log above")
        time.sleep(0.01)
