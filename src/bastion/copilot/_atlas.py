"""MITRE ATLAS techniques: the shipped id -> name/tactics/keywords table and keyword mapping.

The table (``_atlas_table.json``) is generated from ATLAS.yaml by
``scripts/copilot_atlas_table.py``.
Attribution: MITRE ATLAS, Apache-2.0.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

ATTRIBUTION = "MITRE ATLAS, Apache-2.0"


@dataclass(frozen=True)
class Technique:
    """An ATLAS technique and the report phrases that named it."""

    id: str
    name: str
    tactics: tuple[str, ...]
    matched: tuple[str, ...] = ()
    mentions: int = 0


@cache
def atlas_table() -> dict[str, Any]:
    """The shipped table: ``source``, ``attribution``, ``tactics`` and ``techniques``."""
    text = resources.files("bastion.copilot").joinpath("_atlas_table.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


@cache
def _patterns() -> list[tuple[str, re.Pattern[str]]]:
    return [(tid, re.compile(r"(?<![\w-])" + re.escape(keyword) + r"(?![\w-])", re.I))
            for tid, entry in atlas_table()["techniques"].items()
            for keyword in entry["keywords"]]


def technique(tid: str) -> Technique | None:
    """The technique with this id, or None when the table does not know it."""
    entry = atlas_table()["techniques"].get(tid)
    return None if entry is None else Technique(tid, entry["name"], tuple(entry["tactics"]))


def map_techniques(text: str, *, explicit: tuple[str, ...] = ()) -> list[Technique]:
    """Techniques named in ``text`` by keyword or by id (``AML.T0054``), most mentioned first.

    ``explicit`` adds ids a structured source named (a STIX external reference).
    """
    hits: dict[str, dict[str, int]] = {}
    for tid, pattern in _patterns():
        count = len(pattern.findall(text))
        if count:
            hits.setdefault(tid, {})[pattern.pattern] = count
    for tid in [*re.findall(r"\bAML\.T\d{4}(?:\.\d{3})?\b", text), *explicit]:
        hits.setdefault(tid, {}).setdefault(tid, 0)
        hits[tid][tid] += 1
    found = []
    for tid, matched in hits.items():
        known = technique(tid)
        if known is None:
            continue
        words = tuple(sorted({_plain(k) for k in matched}))
        found.append(Technique(tid, known.name, known.tactics, words, sum(matched.values())))
    return sorted(found, key=lambda t: (-t.mentions, t.id))


def _plain(pattern: str) -> str:
    return re.sub(r"^\(\?<!\[\\w-\]\)|\(\?!\[\\w-\]\)$", "", pattern).replace("\\", "")
