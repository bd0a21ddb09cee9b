"""OWASP LLM Top 10 2025 names and the generated MITRE ATLAS table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from bastion.errors import ConfigError, InputError
from bastion.findings import OWASP_LLM_2025, load_atlas, owasp_id, owasp_name, table_from_yaml

from .conftest import SHARED_ATLAS, submission


def test_owasp_has_the_ten_published_names() -> None:
    assert list(OWASP_LLM_2025) == [f"LLM{n:02d}:2025" for n in range(1, 11)]
    assert owasp_name("LLM01") == "Prompt Injection"
    assert owasp_name("llm08:2025") == "Vector and Embedding Weaknesses"
    assert owasp_name("LLM10") == "Unbounded Consumption"
    assert owasp_id("llm03") == "LLM03:2025"


def test_unknown_owasp_id_is_refused_with_the_valid_ones() -> None:
    with pytest.raises(InputError, match=r"unknown OWASP LLM Top 10 id 'LLM11'.*LLM01:2025"):
        owasp_name("LLM11")


def test_shipped_atlas_table_names_techniques_and_tactics() -> None:
    table = load_atlas()
    jailbreak = table.technique("AML.T0054")
    assert jailbreak.name == "LLM Jailbreak"
    assert jailbreak.tactics  # every technique serves at least one tactic
    assert all(t in table.tactics for t in jailbreak.tactics)
    direct = table.technique("AML.T0051.000")
    assert direct.name == "LLM Prompt Injection: Direct"  # sub-technique named with its parent
    assert direct.tactics == table.technique("AML.T0051").tactics


def test_shipped_table_carries_its_attribution() -> None:
    folder = Path(__file__).resolve().parents[2] / "src" / "bastion" / "findings"
    data = json.loads((folder / "atlas.json").read_text())
    assert data["attribution"] == "MITRE ATLAS, Apache-2.0"
    assert "Apache" in (folder / "atlas.NOTICE").read_text()


def test_unknown_atlas_id_is_refused_clearly() -> None:
    with pytest.raises(InputError, match=r"unknown MITRE ATLAS technique 'AML.T9999'.*AML.T0054"):
        load_atlas().technique("AML.T9999")


def test_submission_with_unknown_atlas_id_is_refused(store) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError, match=r"AML\.T0999"):
        store.submit(submission(atlas="AML.T0999"), "alice")
    assert store.listing().items == ()


def test_shipped_table_matches_the_shared_release() -> None:
    if not SHARED_ATLAS.is_file():
        pytest.skip(f"{SHARED_ATLAS} is absent: cannot compare the shipped table with it")
    fresh = table_from_yaml(yaml.safe_load(SHARED_ATLAS.read_text("utf-8")))
    assert fresh.to_json() == load_atlas().to_json()
    assert len(fresh.techniques) == 170


def test_user_atlas_file_replaces_the_shipped_table(tmp_path: Path) -> None:
    own = tmp_path / "ATLAS.yaml"
    own.write_text(yaml.safe_dump({"id": "ATLAS", "version": "9.9", "matrices": [{
        "id": "ATLAS", "tactics": [{"id": "AML.TA9000", "name": "Testing"}],
        "techniques": [{"id": "AML.T9000", "name": "Local Technique", "tactics": ["AML.TA9000"]},
                       {"id": "AML.T9000.001", "name": "Variant",
                        "subtechnique-of": "AML.T9000"}]}]}))
    table = load_atlas(own)
    assert table.version == "9.9"
    assert table.technique("AML.T9000.001").name == "Local Technique: Variant"
    assert table.technique("AML.T9000.001").tactics == ("AML.TA9000",)
    with pytest.raises(InputError):
        table.technique("AML.T0054")


def test_unreadable_atlas_file_is_a_config_error(tmp_path: Path) -> None:
    bad = tmp_path / "ATLAS.yaml"
    bad.write_text("just: text\n")
    with pytest.raises(ConfigError, match=r"not an ATLAS\.yaml"):
        load_atlas(bad)
    with pytest.raises(ConfigError, match="cannot load the ATLAS table"):
        load_atlas(tmp_path / "missing.yaml")
