"""Every OWASP and ATLAS id Bastion writes resolves in the one taxonomy module: ids in the
source (findings, co-pilot, red team, templates, docs) and those of every probe's cases."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from bastion.copilot._atlas import SYNONYMS
from bastion.copilot._digest import TECHNIQUE_PROBES
from bastion.redteam import available, make_probe
from bastion.taxonomy import load_atlas, owasp_id, taxonomy_name

ROOT = Path(__file__).resolve().parents[2]
ATLAS_ID = re.compile(r"\bAML\.T\d{4}(?:\.\d{3})?\b")
OWASP_ID = re.compile(r"\bLLM\d{2}:2025\b")
SOURCES = sorted(p for pattern in ("src/**/*.py", "src/**/*.html", "docs/*.md", "examples/*")
                 for p in ROOT.glob(pattern) if p.is_file())
# Probes that write cases only with an option.
OPTIONS: dict[str, dict[str, Any]] = {"purpose": {"purpose": "support bot of a bank"},
                                      "rag_leak": {"canary": "BSTN-7F3A09C2"}}


def _ids_in(path: Path) -> set[str]:
    text = path.read_text("utf-8", errors="replace")
    return set(ATLAS_ID.findall(text)) | set(OWASP_ID.findall(text))


def test_there_are_sources_to_scan() -> None:
    assert any(p.name == "_atlas.py" for p in SOURCES)
    assert sum(len(_ids_in(p)) for p in SOURCES) >= 30


@pytest.mark.parametrize("path", [p for p in SOURCES if _ids_in(p)],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_every_id_written_in_the_source_resolves(path: Path) -> None:
    for taxonomy_id in sorted(_ids_in(path)):
        taxonomy_name(taxonomy_id)  # raises InputError naming an unknown id


@pytest.mark.parametrize("name", available("probes"))
def test_every_probe_id_resolves(name: str) -> None:
    for case in make_probe(name, **OPTIONS.get(name, {})).cases():
        assert [owasp_id(i) for i in case.owasp] == list(case.owasp), (case.id, case.owasp)
        for technique in case.atlas:
            load_atlas().technique(technique)


def test_every_copilot_id_resolves_and_proposes_real_probes() -> None:
    table = load_atlas()
    for technique in SYNONYMS:
        table.technique(technique)
    probes = set(available("probes"))
    for technique, (_, owasp, proposed) in TECHNIQUE_PROBES.items():
        table.technique(technique)
        assert owasp_id(owasp) == owasp
        assert set(proposed) <= probes, (technique, proposed)
