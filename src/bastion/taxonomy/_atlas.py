"""MITRE ATLAS: technique id -> name and tactics, from a table generated from ``ATLAS.yaml``.

The shipped table (``atlas.json`` beside this module) holds ids, names and tactics only. It is
written by ``scripts/atlas_table.py`` from the ``ATLAS.yaml`` release file of
https://github.com/mitre-atlas/atlas-data (MITRE ATLAS, Apache-2.0; see ``atlas.NOTICE``), and a
test regenerates it to catch a stale copy. Users with a newer release point Bastion at their
own file with ``$BASTION_ATLAS`` (or ``--atlas``); every part of Bastion then reads that one.
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
ATLAS_SOURCE = "ATLAS.yaml of https://github.com/mitre-atlas/atlas-data"
SHIPPED = "atlas.json"


@dataclass(frozen=True)
class Technique:
    """One ATLAS technique or sub-technique.

    Attributes:
        id: ``AML.T0051`` or, for a sub-technique, ``AML.T0051.000``.
        name: a sub-technique is named with its parent: ``LLM Prompt Injection: Direct``.
        tactics: ids of the tactics it serves (a sub-technique inherits its parent's).
    """

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

    def tactic_names(self, technique_id: str) -> tuple[str, ...]:
        """The names of the tactics ``technique_id`` serves.

        Raises:
            InputError: the id is not in this ATLAS release.
        """
        return tuple(self.tactics.get(t, t) for t in self.technique(technique_id).tactics)

    def to_json(self) -> dict[str, Any]:
        """The table as shipped in ``atlas.json``, with its source and licence."""
        return {"attribution": ATLAS_ATTRIBUTION, "licence": "Apache-2.0",
                "source": ATLAS_SOURCE, "generated_by": "scripts/atlas_table.py",
                "version": self.version, "tactics": dict(sorted(self.tactics.items())),
                "techniques": {t.id: {"name": t.name, "tactics": list(t.tactics)}
                               for t in sorted(self.techniques.values(), key=lambda t: t.id)}}


def table_from_yaml(data: Mapping[str, Any]) -> AtlasTable:
    """The id -> name/tactics table of a parsed ``ATLAS.yaml``.

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
    else the one shipped with Bastion. A file is read once per process.

    Raises:
        ConfigError: the file named cannot be read or is not an ATLAS release.
    """
    chosen = path or os.environ.get(ATLAS_ENV)
    return _read(str(chosen)) if chosen else _shipped()


@cache
def _read(chosen: str) -> AtlasTable:
    file = Path(chosen)
    try:
        text = file.read_text("utf-8")
        data = json.loads(text) if file.suffix == ".json" else yaml.safe_load(text)
        if isinstance(data, dict) and "techniques" in data and "matrices" not in data:
            return _from_json(data)
        return table_from_yaml(data if isinstance(data, dict) else {})
    except (OSError, ValueError, yaml.YAMLError, InputError, KeyError, TypeError) as exc:
        raise ConfigError(f"cannot load the ATLAS table {chosen!r} (from --atlas or "
                          f"${ATLAS_ENV}): {exc}; point it at MITRE's ATLAS.yaml") from exc


@cache
def _shipped() -> AtlasTable:
    text = resources.files("bastion.taxonomy").joinpath(SHIPPED).read_text("utf-8")
    return _from_json(json.loads(text))


def _from_json(data: Mapping[str, Any]) -> AtlasTable:
    techniques = {tid: Technique(tid, str(t["name"]), tuple(t.get("tactics", ())))
                  for tid, t in data["techniques"].items()}
    return AtlasTable(str(data.get("version", "?")), techniques, dict(data.get("tactics", {})))
