"""Attacks written for the target's stated purpose."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from bastion.cli._redteam import register
from bastion.errors import ConfigError
from bastion.redteam import make_probe

SHOP = "customer assistant of an outdoor shop, answering questions about orders and products"


def test_purpose_probe_writes_cases_for_the_purpose() -> None:
    assert make_probe("purpose").cases() == []
    assert "purpose" in (make_probe("purpose").available() or "")
    cases = make_probe("purpose", purpose=SHOP).cases()
    assert {c.technique for c in cases} == {"off_scope", "role_abuse", "other_users",
                                            "indirect_purpose"}
    assert all(SHOP in c.prompt or c.setup for c in cases)
    planted = next(c for c in cases if c.setup)
    assert planted.setup[0].role == "tool"
    assert planted.canaries[0] not in planted.setup[0].content, "the model must assemble it"
    other = make_probe("purpose", purpose="triage nurse bot of a clinic").cases()
    assert {c.id for c in other}.isdisjoint({c.id for c in cases})


def test_purpose_probe_from_the_command_line() -> None:
    app = typer.Typer()
    register(app)

    @app.command("noop")
    def noop() -> None:
        """Keeps 'redteam' a sub-group."""

    result = CliRunner().invoke(app, ["redteam", "run", "-t", "vulnerable", "-p", "purpose",
                                      "-P", f"purpose.purpose={SHOP}", "--harm-tier", "rules",
                                      "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output[result.output.index("{"):])
    assert summary["overall"]["n"] == 8
    assert summary["overall"]["successes"] >= 1


def test_a_number_given_to_a_text_option_is_read_as_its_text() -> None:
    cases = make_probe("purpose", purpose=12345).cases()  # as YAML reads -P purpose.purpose=12345
    assert cases
    assert all("12345" in c.prompt or c.setup for c in cases)
    with pytest.raises(ConfigError, match=r"option 'purpose' takes text, but True was read"):
        make_probe("purpose", purpose=True)
