"""``bastion audit`` reads an existing log and says which one; it never creates a database."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from bastion.cli.main import app
from bastion.store import DATABASE_URL_ENV

runner = CliRunner(env={"COLUMNS": "1000"})


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)


def test_verify_without_a_database_refuses_and_creates_nothing(tmp_path: Path) -> None:
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 2
    assert "no audit log at 'sqlite:///bastion.db' (the default)" in result.output
    assert f"{DATABASE_URL_ENV}" in result.output
    assert not (tmp_path / "bastion.db").exists()


def test_verify_names_the_environment_variable_it_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DATABASE_URL_ENV, "sqlite:///missing.db")
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 2
    assert f"'sqlite:///missing.db' (${DATABASE_URL_ENV})" in result.output


def test_verify_a_database_without_an_audit_log(tmp_path: Path) -> None:
    import sqlite3

    sqlite3.connect(tmp_path / "other.db").execute("create table t (x)").connection.close()
    result = runner.invoke(app, ["audit", "verify", "--db", "sqlite:///other.db"])
    assert result.exit_code == 2
    assert "holds no audit log" in result.output


def test_an_empty_log_is_not_ok_and_a_full_one_names_its_database() -> None:
    db = "sqlite:///gw.db"
    assert runner.invoke(app, ["keys", "list", "--db", db]).exit_code == 0  # makes the schema
    result = runner.invoke(app, ["audit", "verify", "--db", db])
    assert result.exit_code == 1
    assert "audit log EMPTY: no events in sqlite:///gw.db" in result.output
    assert runner.invoke(app, ["accounts", "create", "acme", "--db", db]).exit_code == 0
    result = runner.invoke(app, ["audit", "verify", "--db", db, "--allow-unkeyed"])
    assert result.exit_code == 0
    assert "audit log OK: 1 event, head 1 (sqlite:///gw.db)" in result.output


def test_an_intact_chain_that_nothing_vouches_for_is_not_called_verified() -> None:
    """Unkeyed and unanchored, anyone who can write the database can rewrite the log and
    recompute every hash: the intact chain proves nothing, and verify exits 3 to say so."""
    db = "sqlite:///gw.db"
    assert runner.invoke(app, ["accounts", "create", "acme", "--db", db]).exit_code == 0
    result = runner.invoke(app, ["audit", "verify", "--db", db])
    assert result.exit_code == 3
    assert "UNVERIFIED: neither keyed ($BASTION_AUDIT_KEY) nor anchored" in result.output
    allowed = runner.invoke(app, ["audit", "verify", "--db", db, "--allow-unkeyed"])
    assert allowed.exit_code == 0
    assert "warning: neither keyed" in allowed.output


def test_a_keyed_log_without_its_anchor_is_ok_with_a_warning(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Found in a black-box pass: with the key alone, cutting the newest events and putting an
    earlier signed head back verifies OK, and verify said nothing about it."""
    monkeypatch.setenv("BASTION_AUDIT_KEY", "k" * 32)
    db = "sqlite:///gw.db"
    assert runner.invoke(app, ["accounts", "create", "acme", "--db", db]).exit_code == 0
    result = runner.invoke(app, ["audit", "verify", "--db", db])
    assert result.exit_code == 0, result.output
    assert "audit log OK: 1 event, head 1 (sqlite:///gw.db), keyed" in result.output
    assert "warning: keyed but not anchored (--anchor)" in result.output
