"""``bastion copilot``: triage stores proposals, confirm acts, digest and scan-code print."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bastion.accounts import AccountStore
from bastion.cli.main import app
from bastion.store import close_store, open_store

from .conftest import INJECTED, NOW, monitor_incident

runner = CliRunner(env={"COLUMNS": "1000"})
DATA = Path(__file__).parent / "data"


@pytest.fixture(autouse=True)
def _no_llm(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("BASTION_LLM_BASE_URL", "BASTION_COPILOT_LLM_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


def test_triage_then_confirm_suspends_and_audits(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/b.db"
    sessions = open_store(db)
    store = AccountStore(sessions)
    mallory = store.create_account("mallory").id
    incident = {"id": "inc-7", "title": "burst", "alerts": [
        {"id": "a1", "kind": "block_rate", "severity": "critical", "at": NOW.isoformat(),
         "account_id": mallory, "category": "INJ", "count": 50, "evidence": [INJECTED]}]}
    path = tmp_path / "incident.json"
    path.write_text(json.dumps(incident))
    result = runner.invoke(app, ["copilot", "triage", str(path), "--json", "--db", db])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    suspend = next(p for p in data["proposals"] if p["playbook"] == "suspend_account")
    assert suspend["params"] == {"account_id": mallory}
    assert data["ranked"][0]["alert"] == "a1"
    refused = runner.invoke(app, ["copilot", "confirm", suspend["id"], "--by", "ana",
                                  "--reason", " ", "--db", db])
    assert refused.exit_code == 2
    assert "needs a reason" in refused.output
    done = runner.invoke(app, ["copilot", "confirm", suspend["id"], "--by", "ana", "--reason",
                               "confirmed burst", "--db", db])
    assert done.exit_code == 0, done.output
    assert f"suspended account {mallory}" in done.output
    assert store.account(mallory).suspended
    assert "copilot.executed" in [e["type"] for e in store.audit.events()]
    close_store(sessions)


def test_triage_reads_a_monitor_incident_by_id(tmp_path: Path) -> None:
    from bastion.monitor import IncidentStore

    db = f"sqlite:///{tmp_path}/m.db"
    sessions = open_store(db)
    account = AccountStore(sessions).create_account("mallory").id
    incident = monitor_incident(IncidentStore(sessions), account, samples=(INJECTED,))
    close_store(sessions)
    result = runner.invoke(app, ["copilot", "triage", incident.id, "--db", db])
    assert result.exit_code == 0, result.output
    assert f"Suspend account {account}" in result.output
    assert "confirm one with" in result.output
    unknown = runner.invoke(app, ["copilot", "triage", "nothing-here", "--db", db])
    assert unknown.exit_code == 2
    assert "neither an incident JSON file nor" in unknown.output


def test_confirming_open_finding_files_it_in_the_findings_store(tmp_path: Path) -> None:
    from bastion.findings import FindingStore
    from bastion.monitor import IncidentStore

    db = f"sqlite:///{tmp_path}/f.db"
    sessions = open_store(db)
    account = AccountStore(sessions).create_account("mallory").id
    incident = monitor_incident(IncidentStore(sessions), account, samples=(INJECTED,))
    triage = runner.invoke(app, ["copilot", "triage", incident.id, "--json", "--db", db])
    assert triage.exit_code == 0, triage.output
    proposal = next(p for p in json.loads(triage.output)["proposals"]
                    if p["playbook"] == "open_finding")
    done = runner.invoke(app, ["copilot", "confirm", proposal["id"], "--by", "ana", "--reason",
                               "track it", "--finding-target", "support-bot", "--db", db])
    assert done.exit_code == 0, done.output
    assert "opened finding 1" in done.output
    item = FindingStore(sessions).get(1)
    assert (item.state, item.reporter, item.target) == ("new", "ana", "support-bot")
    assert item.transcript[0]["content"] == INJECTED
    close_store(sessions)


def test_digest_prints_techniques_and_writes_cases(tmp_path: Path) -> None:
    cases = tmp_path / "cases.json"
    result = runner.invoke(app, ["copilot", "digest", str(DATA / "report.md"), "--cases",
                                 str(cases)])
    assert result.exit_code == 0, result.output
    assert "AML.T0054" in result.output
    assert "MITRE ATLAS, Apache-2.0" in result.output
    assert json.loads(cases.read_text())[0]["probe"] == "cases_file"
    missing = runner.invoke(app, ["copilot", "digest", str(tmp_path / "nope.md")])
    assert missing.exit_code == 2


def test_scan_code_prints_ranked_findings_with_patches(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("import requests\nrequests.get('https://x', verify=False, "
                                   "timeout=3)\n")
    result = runner.invoke(app, ["copilot", "scan-code", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    findings = json.loads(result.output)["findings"]
    assert findings[0]["cwe"] == "CWE-295"
    assert "verify=True" in findings[0]["patch"]
