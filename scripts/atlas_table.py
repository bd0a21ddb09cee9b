"""Generate the ATLAS id -> name/tactics table shipped with Bastion's findings package.

    python scripts/atlas_table.py [../shared/taxonomies/mitre_atlas/ATLAS.yaml]

Writes src/bastion/findings/atlas.json (MITRE ATLAS, Apache-2.0; the attribution is in the
file and in atlas.NOTICE beside it). The parsing lives in bastion.findings.table_from_yaml.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import yaml

from bastion.findings import table_from_yaml

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT.parent / "shared" / "taxonomies" / "mitre_atlas" / "ATLAS.yaml"
OUT = ROOT / "src" / "bastion" / "findings" / "atlas.json"


def main() -> None:
    """Parse arguments, read ATLAS.yaml, write the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("atlas", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    table = table_from_yaml(yaml.safe_load(args.atlas.read_text("utf-8")))
    args.out.write_text(json.dumps(table.to_json(), indent=1, ensure_ascii=False) + "\n",
                        "utf-8")
    print(f"{args.out}: ATLAS {table.version}, {len(table.techniques)} techniques, "
          f"{len(table.tactics)} tactics")


if __name__ == "__main__":
    main()
