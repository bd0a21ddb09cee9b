"""No secret in the access log: not in a query string, not in a path (``serve._logs``)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from tests.services import free_port

from bastion.gateway._factory import CONFIG_ENV
from bastion.serve._logs import scrub_path

KEY = "sk-proj-" + "Q7x" * 12
"""A key as a client might send it to the wrong place."""
PASSWORD = "Upstream-pw-" + "9" * 8


@pytest.mark.parametrize(("path", "shown"), [
    ("/v1/chat/completions", "/v1/chat/completions"),
    ("/metrics", "/metrics"),
    (f"/v1/models?api_key={KEY}", "/v1/models?…"),
    (f"/v1/{KEY}/chat/completions", "/v1/***/chat/completions"),
    ("/v1/jane%40example.com/models", "/v1/***/models"),
    ("/v1/5555.5555.5555.4444/x", "/v1/***/x"),
    ("/v1/a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6", "/v1/***"),  # a key no detector knows
    ("/v1/" + "x/" * 120 + KEY, "/v1/" + "x/" * 98 + "…"),  # cut at a /, never in a value
])
def test_the_log_shows_a_paths_shape_not_its_values(path: str, shown: str) -> None:
    assert scrub_path(path) == shown


def test_gateway_run_writes_no_key_of_a_url_to_its_log(tmp_path: Path) -> None:
    """``bastion gateway run`` as an operator starts it: a key in a query string (401) or in
    the path (a base URL that holds the key: 404) reaches the access log masked, and so do
    the credentials of the upstream's URL in the start-up line. The path and the upstream's
    URL were written whole before."""
    config = tmp_path / "gw.yaml"
    config.write_text(f"upstream:\n  base_url: http://bastion:{PASSWORD}@127.0.0.1:9/v1"
                      f"?key={KEY}\ndatabase_url: sqlite:///{tmp_path / 'gw.db'}\n")
    log = tmp_path / "gw.log"
    statuses = served_gets(["-m", "bastion.cli.main", "gateway", "run", "--config", str(config)],
                           log, "/v1/models", ["/v1/models?api_key=" + KEY, f"/v1/{KEY}/models"])
    written = log.read_text()
    assert statuses == [401, 404]
    assert KEY[8:20] not in written
    assert PASSWORD not in written
    assert "-> http://***@127.0.0.1:9/v1?…" in written
    assert '"GET /v1/models?… HTTP/1.1" 401' in written
    assert '"GET /v1/***/models HTTP/1.1" 404' in written


def test_the_gateway_served_by_uvicorn_directly_writes_no_key_to_its_log(
        tmp_path: Path) -> None:
    """``uvicorn ...:app_from_env --factory``, without ``gateway run``'s log config: the app's
    factory puts the filter on uvicorn's access logger. The key was written whole before."""
    config = tmp_path / "gw.yaml"
    config.write_text("upstream:\n  base_url: http://127.0.0.1:9/v1\n"
                      f"database_url: sqlite:///{tmp_path / 'gw.db'}\n")
    log = tmp_path / "gw.log"
    statuses = served_gets(["-m", "uvicorn", "bastion.gateway._factory:app_from_env",
                            "--factory"], log, "/v1/models",
                           ["/v1/models?api_key=" + KEY, f"/v1/{KEY}/models"],
                           env={CONFIG_ENV: str(config)})
    written = log.read_text()
    assert statuses == [401, 404]
    assert KEY[8:20] not in written
    assert '"GET /v1/models?… HTTP/1.1" 401' in written
    assert '"GET /v1/***/models HTTP/1.1" 404' in written


def served_gets(args: list[str], log: Path, ready: str, paths: list[str],
                env: dict[str, str] | None = None) -> list[int]:
    """Start ``python ARGS --port P`` (a server) with its output to ``log``, wait until it
    answers ``ready``, GET each of ``paths`` (written as they are, query included), stop it,
    and return the statuses."""
    port = free_port()
    with log.open("w") as output:
        server = subprocess.Popen([sys.executable, *args, "--port", str(port)], stdout=output,
                                  stderr=output, env={**os.environ, **(env or {})})
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_for(base + ready, server)
            with httpx.Client(base_url=base) as client:
                return [client.get(path).status_code for path in paths]
        finally:
            server.terminate()
            server.wait(timeout=30)


def _wait_for(url: str, server: subprocess.Popen[bytes]) -> None:
    """Wait until ``server`` (a process) answers ``url``; fail if it exits or takes 60 s."""
    deadline = time.monotonic() + 60
    while True:
        assert server.poll() is None, "the server exited while starting"
        assert time.monotonic() < deadline, "the server did not start within 60 s"
        try:
            httpx.get(url, timeout=1)
        except httpx.TransportError:
            time.sleep(0.2)
        else:
            return


def test_the_api_served_by_uvicorn_directly_writes_no_key_to_its_log(tmp_path: Path) -> None:
    """``uvicorn bastion.serve._app:create_app_from_env --factory``, without ``bastion
    serve``'s log config: the API's factory puts the filter on uvicorn's access logger too.
    The key in the path was written whole before."""
    log = tmp_path / "api.log"
    settings = '{"tier": "rules", "api_key_hashes": ["' + "0" * 64 + '"]}'
    statuses = served_gets(["-m", "uvicorn", "bastion.serve._app:create_app_from_env",
                            "--factory"], log, "/healthz",
                           ["/v1/policies?api_key=" + KEY, f"/v1/{KEY}/classify"],
                           env={"BASTION_SERVE_SETTINGS": settings})
    written = log.read_text()
    assert statuses == [401, 404]
    assert KEY[8:20] not in written
    assert '"GET /v1/***/classify HTTP/1.1" 404' in written
