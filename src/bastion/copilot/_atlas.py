"""MITRE ATLAS techniques named in report text: keywords over the one ATLAS table.

Technique ids, names and tactics come from :mod:`bastion.taxonomy` (MITRE ATLAS, Apache-2.0).
The keywords that map report text to a technique are its name plus :data:`SYNONYMS`, phrases
analysts write that the name does not contain (Bastion's own words).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from bastion.taxonomy import ATLAS_ATTRIBUTION, AtlasTable, load_atlas

ATTRIBUTION = ATLAS_ATTRIBUTION

# Phrases analysts write for a technique that its ATLAS name does not contain (lower case).
SYNONYMS: dict[str, list[str]] = {
    "AML.T0051": ["prompt injection", "ignore previous instructions",
                  "ignore all previous instructions", "injected instructions"],
    "AML.T0051.000": ["direct prompt injection"],
    "AML.T0051.001": ["indirect prompt injection", "poisoned document", "hidden instructions"],
    "AML.T0054": ["jailbreak", "jailbreaking", "dan prompt", "do anything now",
                  "roleplay attack", "role-play attack", "many-shot", "crescendo"],
    "AML.T0056": ["system prompt extraction", "system prompt leak", "leak the system prompt",
                  "reveal the system prompt", "prompt leaking"],
    "AML.T0057": ["data leakage", "training data extraction", "pii leak"],
    "AML.T0024.002": ["model extraction", "model stealing", "steal the model"],
    "AML.T0024.000": ["membership inference"],
    "AML.T0024.001": ["model inversion"],
    "AML.T0020": ["data poisoning", "poisoned training data", "training data poisoning"],
    "AML.T0070": ["rag poisoning", "poisoned retrieval", "knowledge base poisoning"],
    "AML.T0068": ["obfuscation", "base64", "leetspeak", "homoglyph", "unicode smuggling",
                  "invisible characters"],
    "AML.T0053": ["tool call", "tool invocation", "function calling abuse"],
    "AML.T0043": ["adversarial example", "adversarial suffix", "adversarial perturbation"],
    "AML.T0029": ["denial of service", "resource exhaustion"],
    "AML.T0034": ["cost harvesting", "token flooding", "denial of wallet"],
    "AML.T0048": ["harmful content", "real-world harm"],
    "AML.T0052": ["phishing"],
    "AML.T0088": ["deepfake", "deep fake", "voice cloning"],
    "AML.T0010": ["supply chain", "malicious model file", "pickle payload"],
    "AML.T0011.001": ["malicious package", "typosquatting", "slopsquatting"],
    "AML.T0060": ["hallucinated package", "package hallucination"],
    "AML.T0055": ["leaked api key", "hardcoded credentials", "exposed credentials"],
    "AML.T0077": ["markdown image exfiltration", "response rendering"],
    "AML.T0080": ["memory poisoning", "context poisoning"],
    "AML.T0050": ["code execution", "remote code execution", "shell command"],
}
# Names too generic to match on their own (a subtechnique called "Models" or "Direct").
MIN_NAME_WORDS = 2


@dataclass(frozen=True)
class Technique:
    """An ATLAS technique and the report phrases that named it."""

    id: str
    name: str
    tactics: tuple[str, ...]
    matched: tuple[str, ...] = ()
    mentions: int = 0


def _keywords(table: AtlasTable, tid: str) -> list[str]:
    full = table.techniques[tid].name
    parent = table.techniques.get(tid.rsplit(".", 1)[0]) if tid.count(".") == 2 else None
    own = full.removeprefix(f"{parent.name}: ") if parent else full
    # A sub-technique's own name is short and read in its parent's context ("System
    # Prompt" under Discover LLM System Information): it needs more words to count.
    least = MIN_NAME_WORDS + (1 if parent else 0)
    keywords = [own.lower()] if len(own.split()) >= least else []
    return keywords + [k for k in SYNONYMS.get(tid, []) if k not in keywords]


@cache
def atlas_table() -> dict[str, Any]:
    """The keyword table: ``source``, ``attribution``, ``tactics`` and ``techniques`` (id ->
    name, tactic names and keywords), over :func:`bastion.taxonomy.load_atlas`."""
    table = load_atlas()
    techniques = {tid: {"name": t.name, "tactics": list(table.tactic_names(tid)),
                        "keywords": _keywords(table, tid)}
                  for tid, t in sorted(table.techniques.items())}
    return {"source": f"MITRE ATLAS {table.version}",
            "attribution": f"{ATTRIBUTION} (https://atlas.mitre.org); keywords beyond the "
                           "technique names are Bastion's own",
            "tactics": dict(table.tactics), "techniques": techniques}


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
