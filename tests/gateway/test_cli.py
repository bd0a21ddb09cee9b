"""The CLI groups of the gateway: keys, accounts, audit, gateway (wired as main.py wires them)."""

from __future__ import annotations

import json
import os
import sqlite3
from importlib import import_module
from pathlib import Path

import pytest
import typer
import uvicorn
from typer.testing import CliRunner

from bastion.accounts import AccountStore
from bastion.cli import _gateway
from bastion.gateway._factory import CONFIG_ENV
from bastion.store import close_store, open_store

runner = CliRunner()


@pytest.fixture
def cli() -> typer.Typer:
    app = typer.Typer(pretty_exceptions_enable=False)
    for name in ("_accounts", "_audit", "_gateway", "_keys"):
        import_module(f"bastion.cli.{name}").register(app)
    return app


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/cli.db"


def invoke(app: typer.Typer, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_keys_are_shown_once_listed_by_prefix_rotated_and_revoked(cli: typer.Typer,
                                                                  db: str) -> None:
    assert invoke(cli, "accounts", "create", "alice", "--role", "operator", "--db", db)[0] == 0
    code, out = invoke(cli, "keys", "create", "alice", "--route", "chat", "--model", "gpt-*",
                       "--db", db)
    assert code == 0
    key = next(line for line in out.splitlines() if line.startswith("bst-"))
    assert "shown once" in out
    code, listed = invoke(cli, "keys", "list", "alice", "--json", "--db", db)
    rows = json.loads(listed)
    assert code == 0
    assert key not in listed
    assert rows[0]["prefix"] == key[:10]
    assert rows[0]["scopes"] == {"routes": ["chat"], "models": ["gpt-*"]}
    code, rotated = invoke(cli, "keys", "rotate", rows[0]["id"], "--db", db)
    new_key = next(line for line in rotated.splitlines() if line.startswith("bst-"))
    sessions = open_store(db)
    try:
        store = AccountStore(sessions)
        assert store.authenticate(key) is None
        principal = store.authenticate(new_key)
        assert principal is not None
        assert principal.key.scopes.models == ("gpt-*",)
        new_id = principal.key.id
    finally:
        close_store(sessions)
    assert invoke(cli, "keys", "revoke", new_id, "--db", db)[0] == 0
    assert json.loads(invoke(cli, "keys", "list", "--json", "--db", db)[1]) == []
    code, out = invoke(cli, "keys", "revoke", "key_nope", "--db", db)
    assert code == 2
    assert "bastion keys list" in out


def test_accounts_suspend_show_reinstate(cli: typer.Typer, db: str) -> None:
    invoke(cli, "accounts", "create", "mallory", "--db", db)
    code, _ = invoke(cli, "accounts", "suspend", "mallory", "--reason", "jailbreaks", "--db", db)
    assert code == 0
    shown = json.loads(invoke(cli, "accounts", "show", "mallory", "--db", db)[1])
    assert shown["status"] == "suspended"
    assert shown["status_reason"] == "jailbreaks"
    assert invoke(cli, "accounts", "reinstate", "mallory", "--db", db)[0] == 0
    assert json.loads(invoke(cli, "accounts", "show", "mallory", "--db", db)[1])["status"] == \
        "active"
    code, out = invoke(cli, "accounts", "create", "x", "--role", "emperor", "--db", db)
    assert code == 2
    assert "unknown role 'emperor'" in out


def test_audit_verify_detects_an_edited_or_deleted_event(cli: typer.Typer, db: str) -> None:
    for name in ("a", "b", "c"):
        invoke(cli, "accounts", "create", name, "--db", db)
    code, out = invoke(cli, "audit", "verify", "--db", db, "--allow-unkeyed")
    assert code == 0
    assert "audit log OK: 3 events" in out
    path = db.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        conn.execute("update audit_events set body = replace(body, '\"by\":\"cli\"', "
                     "'\"by\":\"someone\"') where seq = 2")
    conn.close()
    code, out = invoke(cli, "audit", "verify", "--db", db)
    assert code == 1
    assert "event 2: the body was edited" in out
    with sqlite3.connect(path) as conn:
        conn.execute("delete from audit_events where seq = 3")
    conn.close()
    assert "removed" in invoke(cli, "audit", "verify", "--db", db)[1]
    tail = json.loads(invoke(cli, "audit", "tail", "-n", "1", "--db", db)[1])
    assert tail[0]["type"] == "account.created"


def test_gateway_config_validates_and_reports_unknown_keys(cli: typer.Typer,
                                                           tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("upstream:\n  base_url: http://127.0.0.1:9/v1\nstream:\n  window_chars: 64\n")
    code, out = invoke(cli, "gateway", "config", "--config", str(good))
    assert code == 0
    assert json.loads(out)["stream"]["window_chars"] == 64
    bad = tmp_path / "bad.yaml"
    bad.write_text("upstream:\n  base_ur: http://x\n")
    code, out = invoke(cli, "gateway", "config", "--config", str(bad))
    assert code == 2
    assert "upstream.base_ur" in out


def test_gateway_config_prints_no_password_of_its_urls(cli: typer.Typer,
                                                        tmp_path: Path) -> None:
    """The output is pasted into tickets and CI logs; it printed the passwords of the database
    and Redis URLs (and of the upstream's) as they were configured."""
    config = tmp_path / "gw.yaml"
    config.write_text("upstream:\n  base_url: http://proxy:Up-pw-1234@127.0.0.1:9/v1\n"
                      "database_url: postgresql://bastion:Db-pw-5678@db:5432/gw?sslmode=require"
                      "&password=Db-pw-9012\nredis_url: redis://:Redis-pw-3456@redis:6379/0\n")
    code, out = invoke(cli, "gateway", "config", "--config", str(config))
    assert code == 0, out
    assert "-pw-" not in out
    shown = json.loads(out)
    assert shown["database_url"] == ("postgresql://bastion:[redacted]@db:5432/gw"
                                     "?sslmode=require&password=[redacted]")
    assert shown["redis_url"] == "redis://:[redacted]@redis:6379/0"
    assert shown["upstream"]["base_url"] == "http://proxy:[redacted]@127.0.0.1:9/v1"


def test_account_limits_are_set_shown_and_cleared(cli: typer.Typer, db: str) -> None:
    code, out = invoke(cli, "accounts", "create", "team", "--rpm", "30", "--tpm", "9000",
                       "--db", db)
    assert code == 0, out
    shown = json.loads(invoke(cli, "accounts", "show", "team", "--db", db)[1])
    assert (shown["requests_per_minute"], shown["tokens_per_minute"]) == (30, 9000)
    code, out = invoke(cli, "accounts", "limits", "team", "--rpm", "5", "--db", db)
    assert code == 0, out
    assert "all keys together" in " ".join(out.split())
    shown = json.loads(invoke(cli, "accounts", "show", "team", "--db", db)[1])
    assert (shown["requests_per_minute"], shown["tokens_per_minute"]) == (5, None)
    assert invoke(cli, "accounts", "limits", "team", "--rpm", "0", "--db", db)[0] == 2


def test_gateway_run_trusts_forwarded_headers_only_from_named_proxies(
        cli: typer.Typer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # uvicorn trusts X-Forwarded-For from 127.0.0.1 by default: a local client could write a
    # forged address, quotes included, into the access log.
    config = tmp_path / "gw.yaml"
    config.write_text("upstream:\n  base_url: http://127.0.0.1:9/v1\n"
                      f"database_url: sqlite:///{tmp_path / 'gw.db'}\n")
    seen: list[dict[str, object]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: seen.append(options))
    monkeypatch.setattr(_gateway, "create_app", lambda settings: object())
    assert invoke(cli, "gateway", "run", "--config", str(config))[0] == 0
    assert invoke(cli, "gateway", "run", "--config", str(config), "--proxy", "10.0.0.5")[0] == 0
    assert (seen[0]["proxy_headers"], seen[0]["forwarded_allow_ips"]) == (False, None)
    assert (seen[1]["proxy_headers"], seen[1]["forwarded_allow_ips"]) == (True, "10.0.0.5")
    from bastion.serve import log_config  # the access log without query strings (below)

    assert seen[0]["log_config"] == log_config()
    # issue 8: uvicorn's own protocol keeps a connection whose request head never completes
    # for good (test_faults shows what the gateway's does)
    from bastion.gateway._protocol import HeadDeadline

    assert seen[0]["http"] is HeadDeadline


def test_gateway_workers_share_one_identity_secret(
        cli: typer.Typer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Each worker drew its own random secret: a Responses id one worker tagged was refused by
    # the next, and pseudonyms differed from worker to worker.
    config = tmp_path / "gw.yaml"
    config.write_text("upstream:\n  base_url: http://127.0.0.1:9/v1\n"
                      f"database_url: sqlite:///{tmp_path / 'gw.db'}\n")
    monkeypatch.setenv("BASTION_IDENTITY_SECRET", "")  # restored after: the run sets both
    monkeypatch.setenv(CONFIG_ENV, "")
    seen: list[str] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: seen.append(
        os.environ["BASTION_IDENTITY_SECRET"]))
    monkeypatch.setattr(_gateway, "share_cores", lambda workers: None)
    code, out = invoke(cli, "gateway", "run", "--config", str(config), "--workers", "2",
                       "--per-worker-limits")
    assert code == 0, out
    assert len(seen) == 1
    assert len(seen[0]) == 64  # one secret, in the environment every worker inherits
    assert "workers share a random one" in out


def _multi_worker_run(cli: typer.Typer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                      *options: str, redis_line: str = "") -> tuple[int, str, list[int]]:
    """``gateway run --workers 3`` with uvicorn replaced: the exit code, the output, and the
    worker counts uvicorn was started with (empty when no server started)."""
    config = tmp_path / "gw.yaml"
    config.write_text("upstream:\n  base_url: http://127.0.0.1:9/v1\n"
                      f"database_url: sqlite:///{tmp_path / 'gw.db'}\n{redis_line}")
    monkeypatch.setenv("BASTION_IDENTITY_SECRET", "s" * 64)
    monkeypatch.setenv(CONFIG_ENV, "")
    started: list[int] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: started.append(kw["workers"]))
    monkeypatch.setattr(_gateway, "share_cores", lambda workers: None)
    code, out = invoke(cli, "gateway", "run", "--config", str(config), "--workers", "3",
                       *options)
    return code, " ".join(out.split()), started


def test_gateway_workers_without_redis_refuse_to_start(
        cli: typer.Typer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # It only warned: each worker counted rate limits alone, so a key or account could send
    # N times its limits, and a warning in a start-up log is easy to miss.
    code, out, started = _multi_worker_run(cli, tmp_path, monkeypatch)
    assert code == 2, out
    assert started == []  # no server
    assert os.environ[CONFIG_ENV] == ""  # refused before anything was set up for workers
    assert "--workers 3 without redis_url" in out
    assert "up to 3 times its limits" in out
    assert "set redis_url" in out
    assert "BASTION_GATEWAY__REDIS_URL" in out
    assert "--per-worker-limits" in out
    assert "gateway on" not in out


def test_gateway_refuses_zero_workers(cli: typer.Typer, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    # --workers 0 took the several-workers path and handed uvicorn workers=0.
    started: list[int] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: started.append(kw["workers"]))
    code, out = invoke(cli, "gateway", "run", "--workers", "0")
    assert code == 2, out
    assert started == []
    assert "greater than or equal to 1" in " ".join(out.split())


def test_gateway_workers_without_redis_start_when_told_to_count_per_worker(
        cli: typer.Typer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, started = _multi_worker_run(cli, tmp_path, monkeypatch, "--per-worker-limits")
    assert code == 0, out
    assert started == [3]
    assert "warning: redis_url is not set (--per-worker-limits)" in out
    assert "each of the 3 workers counts rate limits on its own" in out
    assert "up to 3 times its limits" in out


@pytest.mark.parametrize("where", ["file", "env"])
def test_gateway_workers_sharing_redis_start_without_a_warning(
        cli: typer.Typer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str) -> None:
    url = "redis://127.0.0.1:9/0"  # never dialled: uvicorn is replaced
    if where == "env":
        monkeypatch.setenv("BASTION_GATEWAY__REDIS_URL", url)
    code, out, started = _multi_worker_run(
        cli, tmp_path, monkeypatch, redis_line=f"redis_url: {url}\n" if where == "file" else "")
    assert code == 0, out
    assert started == [3]
    assert "redis_url" not in out
    assert "warning" not in out


def test_the_access_log_never_shows_a_query_string() -> None:
    """A key sent as ``?api_key=bst-...`` was refused, and written whole to the access log
    (``gateway run`` passes this config: see the proxy test above)."""
    import logging

    from bastion.serve import log_config
    from bastion.serve._logs import ScrubPaths

    wiring = log_config()
    assert wiring["handlers"]["access"]["filters"] == ["drop_query"]
    assert wiring["filters"]["drop_query"]["()"] is ScrubPaths
    key = "bst-" + "k" * 40
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1,
                               '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5", "POST", f"/v1/chat/completions?api_key={key}",
                                "1.1", 401), None)
    assert ScrubPaths().filter(record)
    assert key not in record.getMessage()
    assert '"POST /v1/chat/completions?… HTTP/1.1" 401' in record.getMessage()


def test_gateway_trust_prints_the_config_that_exempts_a_file_and_refuses_unreadable_ones(
        cli: typer.Typer, tmp_path: Path) -> None:
    import yaml

    from bastion.gateway import load_config
    from bastion.gateway._extract import trust_digest

    prompt = tmp_path / "system.txt"
    prompt.write_text("You are the support bot of a bike shop.\n", encoding="utf-8")
    code, out = invoke(cli, "gateway", "trust", str(prompt))
    assert code == 0, out
    settings = yaml.safe_load(out)
    assert settings == {"request": {"trusted_texts": [
        trust_digest("You are the support bot of a bike shop.")]}}
    digests = load_config(environ={"BASTION_GATEWAY__REQUEST__TRUSTED_TEXTS": json.dumps(
        settings["request"]["trusted_texts"])}).request.trusted_texts
    assert digests == (trust_digest("  You are the support bot of a bike shop."),)
    binary = tmp_path / "logo.png"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    blank = tmp_path / "blank.txt"
    blank.write_text(" \n", encoding="utf-8")
    for path, why in ((binary, "is not UTF-8 text"), (blank, "holds no text")):
        code, out = invoke(cli, "gateway", "trust", str(path))
        assert code == 2
        assert why in " ".join(out.replace("\u2502", " ").split())  # Rich boxes and wraps it
