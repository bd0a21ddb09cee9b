"""The one taxonomy module: OWASP LLM Top 10 2025 names, the generated MITRE ATLAS table, and
lookups that refuse unknown ids."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest
import yaml

from bastion.errors import ConfigError, InputError
from bastion.taxonomy import (
    OWASP_LLM_2025,
    label,
    load_atlas,
    owasp_id,
    owasp_name,
    taxonomy_name,
)

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "bastion" / "taxonomy"
SHARED_ATLAS = ROOT.parent / "shared" / "taxonomies" / "mitre_atlas" / "ATLAS.yaml"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("atlas_table", ROOT / "scripts"
                                                  / "atlas_table.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_owasp_has_the_ten_published_names() -> None:
    assert list(OWASP_LLM_2025) == [f"LLM{n:02d}:2025" for n in range(1, 11)]
    assert owasp_name("LLM01") == "Prompt Injection"
    assert owasp_name("llm08:2025") == "Vector and Embedding Weaknesses"
    assert owasp_name("LLM10") == "Unbounded Consumption"
    assert owasp_id("llm03") == "LLM03:2025"


def test_unknown_owasp_id_is_refused_with_the_valid_ones() -> None:
    with pytest.raises(InputError, match=r"unknown OWASP LLM Top 10 id 'LLM11'.*LLM01:2025"):
        owasp_name("LLM11")
    with pytest.raises(InputError, match=r"'LLM01:2023'.*2025 edition"):
        owasp_id("LLM01:2023")


def test_shipped_atlas_table_names_techniques_and_tactics() -> None:
    table = load_atlas()
    jailbreak = table.technique("AML.T0054")
    assert jailbreak.name == "LLM Jailbreak"
    assert table.tactic_names("AML.T0054") == ("Privilege Escalation", "Defense Evasion")
    direct = table.technique("AML.T0051.000")
    assert direct.name == "LLM Prompt Injection: Direct"  # sub-technique named with its parent
    assert direct.tactics == table.technique("AML.T0051").tactics
    assert all(t.tactics and set(t.tactics) <= set(table.tactics)
               for t in table.techniques.values())


def test_shipped_table_records_release_source_and_licence() -> None:
    data = json.loads((PACKAGE / "atlas.json").read_text("utf-8"))
    assert data["attribution"] == "MITRE ATLAS, Apache-2.0"
    assert data["licence"] == "Apache-2.0"
    assert data["version"] == load_atlas().version == "5.6.0"
    assert "mitre-atlas/atlas-data" in data["source"]
    assert "Apache" in (PACKAGE / "atlas.NOTICE").read_text("utf-8")
    assert "MITRE ATLAS" in (ROOT / "NOTICE").read_text("utf-8")
    assert set(data["techniques"]["AML.T0054"]) == {"name", "tactics"}, "ids and names only"


def test_shipped_table_is_what_the_script_writes_from_the_shared_release() -> None:
    if not SHARED_ATLAS.is_file():
        pytest.skip(f"{SHARED_ATLAS} is absent: cannot check the shipped ATLAS table against "
                    "the release it was generated from")
    fresh = _script().render(SHARED_ATLAS)
    assert fresh == (PACKAGE / "atlas.json").read_text("utf-8"), (
        "src/bastion/taxonomy/atlas.json is stale; run: python scripts/atlas_table.py")
    assert len(json.loads(fresh)["techniques"]) == 170


def test_unknown_ids_are_refused_clearly() -> None:
    with pytest.raises(InputError, match=r"unknown MITRE ATLAS technique 'AML.T9999'.*AML.T0054"):
        load_atlas().technique("AML.T9999")
    with pytest.raises(InputError, match=r"unknown MITRE ATLAS technique 'AML.T9999'"):
        taxonomy_name("AML.T9999")
    with pytest.raises(InputError, match=r"unknown OWASP LLM Top 10 id 'LLM42'"):
        taxonomy_name("LLM42")
    with pytest.raises(InputError, match=r"unknown taxonomy id 'T1059'.*'LLM01:2025'.*AML"):
        taxonomy_name("T1059")


def test_labels_name_both_taxonomies_and_keep_foreign_ids() -> None:
    assert taxonomy_name("LLM07:2025") == "System Prompt Leakage"
    assert label("AML.T0056") == "AML.T0056 Extract LLM System Prompt"
    assert label("AML.T0053") == "AML.T0053 AI Agent Tool Invocation"
    assert label("LLM08:2025") == "LLM08:2025 Vector and Embedding Weaknesses"
    assert label("acme:custom-7") == "acme:custom-7", "a third-party id is shown as written"


def test_user_atlas_file_replaces_the_shipped_table(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
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
    monkeypatch.setenv("BASTION_ATLAS", str(own))
    assert taxonomy_name("AML.T9000") == "Local Technique"


def test_unreadable_atlas_file_is_a_config_error(tmp_path: Path) -> None:
    bad = tmp_path / "ATLAS.yaml"
    bad.write_text("just: text\n")
    with pytest.raises(ConfigError, match=r"not an ATLAS\.yaml"):
        load_atlas(bad)
    with pytest.raises(ConfigError, match="cannot load the ATLAS table"):
        load_atlas(tmp_path / "missing.yaml")
