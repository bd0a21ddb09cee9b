"""Write src/bastion/copilot/_atlas_table.json from MITRE ATLAS's ATLAS.yaml.

The co-pilot cannot read ../shared at run time, so it ships this small table: technique id ->
name, tactic names and the keywords that map report text to it. Technique and tactic names
come from ATLAS.yaml (MITRE ATLAS, Apache-2.0); the keywords are the technique names plus the
hand-written synonyms below (our own words).

    python scripts/copilot_atlas_table.py [--atlas ../shared/taxonomies/mitre_atlas/ATLAS.yaml]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ATLAS = ROOT.parent / "shared" / "taxonomies" / "mitre_atlas" / "ATLAS.yaml"
OUT = ROOT / "src" / "bastion" / "copilot" / "_atlas_table.json"

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


def _full_name(technique: dict[str, Any], by_id: dict[str, dict[str, Any]]) -> str:
    parent = technique.get("subtechnique-of")
    if parent and parent in by_id:
        return f"{by_id[parent]['name']}: {technique['name']}"
    return str(technique["name"])


def build(atlas: dict[str, Any]) -> dict[str, Any]:
    """The table: version, attribution, tactics, and techniques with their keywords."""
    matrix = atlas["matrices"][0]
    tactics = {t["id"]: t["name"] for t in matrix["tactics"]}
    by_id = {t["id"]: t for t in matrix["techniques"]}
    techniques: dict[str, Any] = {}
    for tid, technique in sorted(by_id.items()):
        parent = technique.get("subtechnique-of")
        tactic_ids = technique.get("tactics") or by_id.get(parent or "", {}).get("tactics") or []
        own = str(technique["name"]).lower()
        # A sub-technique's own name is short and read in its parent's context ("System
        # Prompt" under Discover LLM System Information): it needs more words to count.
        least = MIN_NAME_WORDS + (1 if parent else 0)
        keywords = [own] if len(own.split()) >= least else []
        keywords += [k for k in SYNONYMS.get(tid, []) if k not in keywords]
        techniques[tid] = {"name": _full_name(technique, by_id),
                           "tactics": [tactics[t] for t in tactic_ids if t in tactics],
                           "keywords": keywords}
    unknown = sorted(set(SYNONYMS) - set(techniques))
    if unknown:
        raise SystemExit(f"synonyms name ids that ATLAS {atlas['version']} lacks: {unknown}")
    return {"source": f"MITRE ATLAS {atlas['version']}",
            "attribution": "MITRE ATLAS, Apache-2.0 (https://atlas.mitre.org); keywords beyond "
                           "the technique names are Bastion's own",
            "generated_by": "scripts/copilot_atlas_table.py",
            "tactics": tactics, "techniques": techniques}


def main() -> None:
    """Parse arguments and write the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--atlas", type=Path, default=DEFAULT_ATLAS)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    atlas = yaml.safe_load(args.atlas.read_text(encoding="utf-8"))
    table = build(atlas)
    args.out.write_text(json.dumps(table, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {len(table['techniques'])} techniques to {args.out}")


if __name__ == "__main__":
    main()
