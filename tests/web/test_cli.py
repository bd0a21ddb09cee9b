"""``bastion users create-admin`` and ``bastion web run``: passwords never on the command line."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from bastion.cli._web import load_web_settings
from bastion.cli.main import app
from bastion.errors import ConfigError
from bastion.store import close_store, open_store
from bastion.web import UserStore

runner = CliRunner(env={"COLUMNS": "1000"})


def test_create_admin_reads_the_password_from_stdin(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/cli.db"
    result = runner.invoke(app, ["users", "create-admin", "root", "--password-stdin",
                                 "--db", db], input="a long admin passphrase\n")
    assert result.exit_code == 0, result.output
    assert "a long admin passphrase" not in result.output
    sessions = open_store(db)
    try:
        users = UserStore(sessions)
        assert users.get("root").role == "admin"
        assert users.login("root", "a long admin passphrase").outcome == "ok"
    finally:
        close_store(sessions)


def test_create_admin_prompts_twice_and_refuses_short_passwords(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/cli.db"
    result = runner.invoke(app, ["users", "create-admin", "root", "--db", db],
                           input="short\nshort\n")
    assert result.exit_code == 2
    assert "use at least 12" in result.output


def test_there_is_no_password_option() -> None:
    result = runner.invoke(app, ["users", "create-admin", "--help"])
    assert result.exit_code == 0
    assert "--password-stdin" in result.output
    assert "--password " not in result.output


def test_web_settings_reject_unknown_keys(tmp_path: Path) -> None:
    config = tmp_path / "web.yaml"
    config.write_text("session_minutes: 30\nsesion_minutes: 5\n")
    with pytest.raises(ConfigError, match="sesion_minutes"):
        load_web_settings(config, None)
    config.write_text("session_minutes: 30\n")
    settings = load_web_settings(config, "sqlite:///x.db")
    assert settings.session_minutes == 30
    assert settings.database_url == "sqlite:///x.db"


def test_web_run_is_wired() -> None:
    result = runner.invoke(app, ["web", "run", "--help"])
    assert result.exit_code == 0
    assert "--port" in result.output
    assert "--config" in result.output
