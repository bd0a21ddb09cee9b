"""Generate the MITRE ATLAS table shipped in bastion.taxonomy (ids, names, tactics).

    python scripts/atlas_table.py [../shared/taxonomies/mitre_atlas/ATLAS.yaml]

Writes src/bastion/taxonomy/atlas.json: technique and tactic ids and names only, with the ATLAS
version, source and licence (MITRE ATLAS, Apache-2.0; atlas.NOTICE beside it). The parsing
lives in bastion.taxonomy.table_from_yaml; tests/taxonomy regenerates the table with render()
and fails when the shipped one is stale.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import yaml

from bastion.taxonomy import table_from_yaml

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT.parent / "shared" / "taxonomies" / "mitre_atlas" / "ATLAS.yaml"
OUT = ROOT / "src" / "bastion" / "taxonomy" / "atlas.json"


def render(atlas: Path) -> str:
    """The text of ``atlas.json`` for the ATLAS.yaml at ``atlas``."""
    table = table_from_yaml(yaml.safe_load(atlas.read_text("utf-8")))
    return json.dumps(table.to_json(), indent=1, ensure_ascii=False) + "\n"


def main() -> None:
    """Parse arguments, read ATLAS.yaml, write the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("atlas", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    text = render(args.atlas)
    args.out.write_text(text, "utf-8")
    data = json.loads(text)
    print(f"{args.out}: ATLAS {data['version']}, {len(data['techniques'])} techniques, "
          f"{len(data['tactics'])} tactics")


if __name__ == "__main__":
    main()
