"""``bastion monitor``: replay a recorded stream, write a synthetic day, handle incidents."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from bastion.cli.main import app
from bastion.monitor import AuditLog, EventStore, IncidentStore, write_jsonl
from bastion.store import close_store, open_store

from .conftest import background, event
from .test_incidents import alert

runner = CliRunner()


def test_replay_prints_the_incidents_of_a_recorded_stream(tmp_path: Path) -> None:
    burst = [event(3 * 3600 + n * 10, "acct_evil", decision="block", categories=("INJ",), n=n)
             for n in range(20)]
    path = tmp_path / "events.jsonl"
    write_jsonl(sorted(background(240) + burst, key=lambda e: e.at), path)
    settings = tmp_path / "detectors.yaml"
    settings.write_text("cluster-spread: null\n", encoding="utf-8")
    result = runner.invoke(app, ["monitor", "replay", str(path), "--settings", str(settings),
                                 "--json"])
    assert result.exit_code == 0, result.output
    found = json.loads(result.output)
    assert found["events"] == 240 * 20 + 20
    assert [i["accounts"] for i in found["incidents"]] == [["acct_evil"]]


def test_replay_names_a_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text("not json\n", encoding="utf-8")
    result = runner.invoke(app, ["monitor", "replay", str(path)])
    assert result.exit_code == 2
    assert "events.jsonl:1: not JSON" in result.output


def test_generate_writes_a_day_with_its_injections(tmp_path: Path) -> None:
    out = tmp_path / "day.jsonl"
    result = runner.invoke(app, ["monitor", "generate", str(out), "--seed", "3"])
    assert result.exit_code == 0, result.output
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) >= 100_000
    assert "injected spread: one attack spreading across 20 accounts" in result.output
    assert sum('"request_id":"inj-burst-' in line for line in lines) >= 40


def _seeded(tmp_path: Path) -> tuple[str, str, sessionmaker[Session]]:
    db = f"sqlite:///{tmp_path}/gw.db"
    sessions = open_store(db)
    (incident,) = IncidentStore(sessions, audit=AuditLog(sessions)).record(
        [alert("block-rate:account:a", 0, accounts=("acct_a",))])
    return db, incident.id, sessions


def test_list_acknowledge_and_resolve(tmp_path: Path) -> None:
    db, incident, sessions = _seeded(tmp_path)
    listed = runner.invoke(app, ["monitor", "incidents", "--db", db, "--json"])
    assert [i["id"] for i in json.loads(listed.output)] == [incident]
    refused = runner.invoke(app, ["monitor", "ack", incident, "--db", db, "--reason", ""])
    assert refused.exit_code == 2
    assert "a reason is required" in refused.output
    acked = runner.invoke(app, ["monitor", "ack", incident, "--db", db, "--by", "alice",
                                "--reason", "on it"])
    assert acked.exit_code == 0, acked.output
    done = runner.invoke(app, ["monitor", "resolve", incident, "--db", db, "--by", "alice",
                               "--reason", "key rotated"])
    assert done.exit_code == 0, done.output
    assert runner.invoke(app, ["monitor", "incidents", "--db", db, "--json"]).output.strip() \
        == "[]"
    every = json.loads(runner.invoke(app, ["monitor", "incidents", "--db", db, "--all",
                                           "--json"]).output)
    assert every[0]["status_reason"] == "key rotated"
    assert [e["type"] for e in AuditLog(sessions).events()] == ["incident.acknowledged",
                                                                 "incident.resolved"]
    close_store(sessions)


def test_a_missing_database_is_not_created(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/nowhere.db"
    result = runner.invoke(app, ["monitor", "incidents", "--db", db])
    assert result.exit_code == 2
    assert not (tmp_path / "nowhere.db").exists()


def test_watch_runs_the_detectors_over_what_the_workers_stored(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/gw.db"
    sessions = open_store(db)
    burst = [event(3 * 3600 + n * 10, "acct_evil", decision="block", categories=("INJ",), n=n)
             for n in range(20)]
    events = sorted(background(240) + burst, key=lambda e: e.at)
    EventStore(sessions).append(events[:3000])  # two workers' batches, stored apart
    EventStore(sessions).append(events[3000:])
    settings = tmp_path / "detectors.yaml"
    settings.write_text("cluster-spread: null\n", encoding="utf-8")
    new_only = runner.invoke(app, ["monitor", "watch", "--db", db, "--once"])
    assert new_only.exit_code == 0, new_only.output
    assert "0 incident(s) open" in new_only.output  # history is not replayed by default
    result = runner.invoke(app, ["monitor", "watch", "--db", db, "--once", "--from-start",
                                 "--settings", str(settings)])
    assert result.exit_code == 0, result.output
    assert f"watched up to event {len(events)}; 1 incident(s) open" in result.output
    (incident,) = IncidentStore(sessions).incidents()
    assert incident.accounts == ("acct_evil",)
    close_store(sessions)
