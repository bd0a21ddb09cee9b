"""Imports: a Bastion campaign attempt, garak report.jsonl, promptfoo results, PyRIT exports."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import pytest

from bastion.errors import InputError
from bastion.findings import FindingStore, read_findings
from bastion.redteam import make_config, run_campaign

from .conftest import DATA


@pytest.fixture(scope="module")
def campaign_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real campaign log against the deliberately vulnerable target."""
    log = tmp_path_factory.mktemp("campaign") / "run.jsonl"
    config = make_config(target="vulnerable", probes=["system_prompt_extraction"],
                         harm_tier="rules", concurrency=4, seed=3)
    anyio.run(lambda: run_campaign(config, log_path=log))
    return log


def test_one_click_import_of_a_campaign_attempt(campaign_log: Path, store: FindingStore) -> None:
    rows = [json.loads(line) for line in campaign_log.read_text().splitlines()]
    won = [r["attempt"] for r in rows if r.get("type") == "attempt" and r["attempt"]["success"]]
    assert won, "the vulnerable target should leak its system prompt at least once"
    attempt = won[0]
    [sub] = read_findings("campaign", campaign_log, attempt_id=attempt["id"],
                          engagement="june")
    item = store.submit(sub, "alice")
    assert item.source == "campaign"
    assert item.source_ref is not None
    assert item.source_ref.endswith(attempt["id"])
    assert item.probe is not None
    assert item.probe["id"] == attempt["case"]["id"]
    assert item.owasp == attempt["case"]["owasp"][0]
    assert item.atlas == attempt["case"]["atlas"][0]
    assert item.engagement == "june"
    users = [t["content"] for t in item.transcript if t["role"] == "user"]
    assert users == [t["prompt"] for t in attempt["turns"] if not t["rewound"]]
    assert 0 < (item.repro_rate or 0) <= 1


def test_campaign_import_takes_every_success(campaign_log: Path) -> None:
    rows = [json.loads(line) for line in campaign_log.read_text().splitlines()]
    wins = sum(1 for r in rows if r.get("type") == "attempt" and r["attempt"]["success"])
    assert len(read_findings("campaign", campaign_log)) == wins
    with pytest.raises(InputError, match="has no attempt 'nope'"):
        read_findings("campaign", campaign_log, attempt_id="nope")


def test_garak_report_hits_become_findings(store: FindingStore) -> None:
    subs = read_findings("garak", DATA / "garak.report.jsonl")
    assert len(subs) == 1  # one output of the DAN attempt was flagged; the refusal was not
    item = store.submit(subs[0], "alice")
    assert item.target == "gpt-4o-mini"
    assert item.source == "garak"
    assert [t["role"] for t in item.transcript] == ["user", "assistant"]
    assert item.transcript[1]["content"] == "DAN Mode enabled. I will do anything now."
    assert "dan.DAN" in item.title


def test_promptfoo_failed_tests_become_findings(store: FindingStore) -> None:
    subs = read_findings("promptfoo", DATA / "promptfoo.results.json")
    assert [s.source_ref for s in subs] == ["promptfoo.results.json#r1",
                                            "promptfoo.results.json#r2"]  # not passes/errors
    leak, crescendo = (store.submit(s, "alice") for s in subs)
    assert leak.target == "support-bot"
    assert leak.transcript[1]["content"].endswith("<script>alert(1)</script>")  # intact
    assert leak.impact == "The output reveals the system prompt."
    assert [t["role"] for t in crescendo.transcript] == ["user", "assistant"] * 2
    assert crescendo.title == "promptfoo harmful:non-violent-crime via crescendo"


def test_pyrit_conversations_scored_true_become_findings(store: FindingStore) -> None:
    subs = read_findings("pyrit", DATA / "pyrit.export.json")
    assert len(subs) == 1
    item = store.submit(subs[0], "alice")
    assert [t["role"] for t in item.transcript] == ["system", "user", "assistant", "user",
                                                    "assistant"]
    assert item.engagement == "june-red-team"
    assert item.target == "gpt-4o"
    assert item.policy_category == "violence"
    assert "requested steps" in item.impact


@pytest.mark.parametrize(("kind", "content", "message"), [
    ("garak", "not json at all\n", r"garak\.jsonl:1: not JSON"),
    ("garak", '{"entry_type": "init"}\n', "holds no garak attempt lines"),
    ("promptfoo", "[1, 2]", "not a promptfoo results file"),
    ("promptfoo", "{broken", "is not JSON"),
    ("pyrit", '{"a": 1}', "not a PyRIT export"),
    ("pyrit", '[{"role": "user"}]', "no 'conversation_id'"),
    ("campaign", '{"type": "note"}\n', "no campaign header"),
    ("campaign", '{"type": "campaign"}\n{"type": "attempt"}\n{}\n', "not a Bastion campaign log"),
])
def test_unreadable_files_are_refused_clearly(tmp_path: Path, kind: str, content: str,
                                              message: str) -> None:
    path = tmp_path / f"{kind}.jsonl"
    path.write_text(content)
    with pytest.raises(InputError, match=message):
        read_findings(kind, path)


def test_unknown_format_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown import format 'csv'"):
        read_findings("csv", tmp_path / "x")
    with pytest.raises(InputError, match="cannot read"):
        read_findings("promptfoo", tmp_path / "missing.json")


@pytest.mark.parametrize("kind", ["campaign", "garak", "promptfoo", "pyrit"])
def test_json_nested_past_the_parsers_depth_is_an_input_error(kind: str, tmp_path: Path) -> None:
    """Python's json raises RecursionError (not a JSONDecodeError) on deep nesting; the web
    import answered 500 with it."""
    path = tmp_path / "deep.json"
    path.write_text("[" * 200_000 + "]" * 200_000 + "\n")
    with pytest.raises(InputError, match="nested too deeply to read"):
        read_findings(kind, path)
