"""The CLI wiring: commands load on use, help reads well, errors name the option."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from bastion.cli.main import COMMANDS, app, load_command

runner = CliRunner(env={"COLUMNS": "100"})


def _helps(name: str, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], str]]:
    command = load_command(name) if not path else None
    out = [((name, *path), runner.invoke(app, [name, *path, "--help"]).output)]
    out.extend(((name, sub), runner.invoke(app, [name, sub, "--help"]).output)
               for sub in getattr(command, "commands", {}))
    return out


@pytest.mark.parametrize("name", list(COMMANDS))
def test_the_command_table_matches_what_each_module_registers(name: str) -> None:
    command = load_command(name)
    assert command.name == name
    short = (command.help or "").strip().split("\n\n")[0].replace("\n", " ")
    assert " ".join(short.split()) == COMMANDS[name][1]


@pytest.mark.parametrize("name", list(COMMANDS))
def test_help_shows_flags_as_flags_and_values_by_name(name: str) -> None:
    for path, text in _helps(name):
        assert "Usage:" in text, path
        assert "<bool>" not in text, path
        assert "<str>" not in text, path
        assert "<int>" not in text, path


def _leaves(command: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any]]:
    subs = getattr(command, "commands", None)
    if not subs:
        yield path, command
        return
    for name, sub in subs.items():
        yield from _leaves(sub, (*path, name))


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_option_and_argument_has_help(name: str) -> None:
    for path, command in _leaves(load_command(name), (name,)):
        missing = [p.name for p in command.params if not (p.help or "").strip()]
        assert not missing, f"bastion {' '.join(path)}: no help for {missing}"


def test_help_imports_no_command_module_and_is_quick() -> None:
    code = ("import sys, time; t = time.perf_counter(); sys.argv = ['bastion', '--help']\n"
            "from bastion.cli.main import app\n"
            "try:\n    app()\nexcept SystemExit:\n    pass\n"
            "heavy = sorted(m for m in ('sqlalchemy', 'alembic', 'bastion.cli._redteam', "
            "'bastion.cli._classify', 'uvicorn', 'numpy') if m in sys.modules)\n"
            "print('HEAVY', heavy)")
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    elapsed = time.perf_counter() - started
    assert "HEAVY []" in done.stdout
    assert "classify" in done.stdout
    assert "redteam" in done.stdout
    assert elapsed < 2.0  # 0.2 s on the development machine; generous for a loaded CI box


def test_an_unknown_command_is_a_usage_error() -> None:
    result = runner.invoke(app, ["nope"])
    assert result.exit_code == 2
    assert "No such command 'nope'" in result.output


def test_redteam_target_errors_name_the_option() -> None:
    result = runner.invoke(app, ["redteam", "run", "-t", "openai"])
    assert result.exit_code == 2
    assert "target 'openai' needs option 'base_url'" in result.output
    assert "-T base_url=" in result.output
    result = runner.invoke(app, ["redteam", "run", "-t", "openai", "-T", "base_url=http://x/v1",
                                 "-T", "api_key=sk-1"])
    assert result.exit_code == 2
    assert "has no option 'api_key'" in result.output
    assert "'api_key_env'" in result.output


def test_redteam_help_and_list_show_every_target_option() -> None:
    text = runner.invoke(app, ["redteam", "run", "--help"]).output
    listed = runner.invoke(app, ["redteam", "list", "targets"]).output
    for needle in ("target 'openai'", "base_url (required)", "api_key_env (default None)",
                   "target 'http'", "url (required)"):
        assert needle in text
        assert needle in listed


def test_dev_upstream_scripts_load_and_errors_name_the_field(tmp_path: Path) -> None:
    from bastion.cli._dev import load_script
    from bastion.errors import ConfigError

    assert "pipe bomb" in load_script(None)["story"].content
    good = tmp_path / "script.yaml"
    good.write_text("hello: Hi there\nslow:\n  content: later\n  delay: 0.5\n"
                    "cut:\n  chunks: [a, b]\n  break_after: 1\n", encoding="utf-8")
    turns = load_script(good)
    assert turns["hello"].content == "Hi there"
    assert turns["slow"].delay == 0.5
    assert turns["cut"].chunks == ("a", "b")
    bad = tmp_path / "bad.yaml"
    bad.write_text("hello:\n  text: Hi\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="needle 'hello' has unknown field 'text'"):
        load_script(bad)
