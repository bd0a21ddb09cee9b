"""Taxonomies a finding is filed under: OWASP Top 10 for LLM Applications 2025, MITRE ATLAS.

The OWASP list is short and fixed, so it is written here. The ATLAS table (technique id ->
name and tactics) is generated from MITRE's ``ATLAS.yaml`` by ``scripts/atlas_table.py`` and
shipped as ``atlas.json`` (MITRE ATLAS, Apache-2.0; see ``atlas.NOTICE``). Users with a newer
release point Bastion at their own file with ``$BASTION_ATLAS`` or :func:`load_atlas`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from bastion.errors import ConfigError, InputError

ATLAS_ENV = "BASTION_ATLAS"
ATLAS_ATTRIBUTION = "MITRE ATLAS, Apache-2.0"

# The published list: https://genai.owasp.org/llm-top-10/ (2025 edition).
OWASP_LLM_2025: dict[str, str] = {
    "LLM01:2025": "Prompt Injection",
    "LLM02:2025": "Sensitive Information Disclosure",
    "LLM03:2025": "Supply Chain",
    "LLM04:2025": "Data and Model Poisoning",
    "LLM05:2025": "Improper Output Handling",
    "LLM06:2025": "Excessive Agency",
    "LLM07:2025": "System Prompt Leakage",
    "LLM08:2025": "Vector and Embedding Weaknesses",
    "LLM09:2025": "Misinformation",
    "LLM10:2025": "Unbounded Consumption",
}


@dataclass(frozen=True)
class Technique:
    """One ATLAS technique or sub-technique: its name and the tactics it serves."""

    id: str
    name: str
    tactics: tuple[str, ...]


@dataclass(frozen=True)
class AtlasTable:
    """ATLAS techniques and tactics by id, with the release they came from."""

    version: str
    techniques: Mapping[str, Technique]
    tactics: Mapping[str, str]

    def technique(self, technique_id: str) -> Technique:
        """The technique ``technique_id``.

        Raises:
            InputError: the id is not in this ATLAS release.
        """
        found = self.techniques.get(technique_id.strip())
        if found is None:
            raise InputError(f"unknown MITRE ATLAS technique {technique_id!r} (ATLAS "
                             f"{self.version}); use an id such as 'AML.T0054' (LLM Jailbreak) "
                             f"or 'AML.T0051.000'; see https://atlas.mitre.org/techniques")
        return found

    def to_json(self) -> dict[str, Any]:
        """The table as shipped in ``atlas.json``."""
        return {"attribution": ATLAS_ATTRIBUTION, "version": self.version,
                "tactics": dict(sorted(self.tactics.items())),
                "techniques": {t.id: {"name": t.name, "tactics": list(t.tactics)}
                               for t in sorted(self.techniques.values(), key=lambda t: t.id)}}


def owasp_name(owasp_id: str) -> str:
    """The name of an OWASP LLM Top 10 2025 id (``LLM01`` or ``LLM01:2025``).

    Raises:
        InputError: the id is not one of the ten.
    """
    key = owasp_id.strip().upper()
    key = key if ":" in key else f"{key}:2025"
    if key not in OWASP_LLM_2025:
        raise InputError(f"unknown OWASP LLM Top 10 id {owasp_id!r}; use one of "
                         f"{', '.join(OWASP_LLM_2025)}")
    return OWASP_LLM_2025[key]


def owasp_id(owasp: str) -> str:
    """The canonical ``LLMnn:2025`` form of an id (validated)."""
    owasp_name(owasp)
    key = owasp.strip().upper()
    return key if ":" in key else f"{key}:2025"


def table_from_yaml(data: Mapping[str, Any]) -> AtlasTable:
    """The id -> name/tactics table of a parsed ``ATLAS.yaml`` (sub-techniques inherit the
    tactics of their parent and are named ``Parent: Sub``).

    Raises:
        InputError: the data does not look like an ATLAS release.
    """
    matrices = data.get("matrices")
    if not isinstance(matrices, list) or not matrices:
        raise InputError("not an ATLAS.yaml: no 'matrices' list; use the ATLAS.yaml release "
                         "file of github.com/mitre-atlas/atlas-data")
    tactics: dict[str, str] = {}
    raw: dict[str, dict[str, Any]] = {}
    for matrix in matrices:
        tactics.update({t["id"]: t["name"] for t in matrix.get("tactics", [])})
        raw.update({t["id"]: t for t in matrix.get("techniques", [])})
    techniques: dict[str, Technique] = {}
    for tid, item in raw.items():
        parent = raw.get(str(item.get("subtechnique-of", "")))
        name = f"{parent['name']}: {item['name']}" if parent else str(item["name"])
        source = item if item.get("tactics") else (parent or {})
        techniques[tid] = Technique(tid, name, tuple(source.get("tactics", ())))
    return AtlasTable(str(data.get("version", "?")), techniques, tactics)


def load_atlas(path: str | Path | None = None) -> AtlasTable:
    """The ATLAS table: from ``path`` or ``$BASTION_ATLAS`` (an ATLAS.yaml or a table JSON),
    else the one shipped with Bastion.

    Raises:
        ConfigError: the file named cannot be read or is not an ATLAS release.
    """
    chosen = path or os.environ.get(ATLAS_ENV)
    if not chosen:
        return _shipped()
    file = Path(chosen)
    try:
        text = file.read_text("utf-8")
        data = json.loads(text) if file.suffix == ".json" else yaml.safe_load(text)
        if isinstance(data, dict) and "techniques" in data and "matrices" not in data:
            return _from_json(data)
        return table_from_yaml(data if isinstance(data, dict) else {})
    except (OSError, ValueError, yaml.YAMLError, InputError, KeyError, TypeError) as exc:
        raise ConfigError(f"cannot load the ATLAS table {str(file)!r} (from --atlas or "
                          f"${ATLAS_ENV}): {exc}; point it at MITRE's ATLAS.yaml") from exc


@cache
def _shipped() -> AtlasTable:
    text = resources.files("bastion.findings").joinpath("atlas.json").read_text("utf-8")
    return _from_json(json.loads(text))


def _from_json(data: Mapping[str, Any]) -> AtlasTable:
    techniques = {tid: Technique(tid, str(t["name"]), tuple(t.get("tactics", ())))
                  for tid, t in data["techniques"].items()}
    return AtlasTable(str(data.get("version", "?")), techniques, dict(data.get("tactics", {})))
