"""Vendor a pinned browser library into the web app's static folder and record it.

    python scripts/vendor_asset.py htmx htmx.org 2.0.11 dist/htmx.min.js
    python scripts/vendor_asset.py chartjs chart.js 4.4.7 dist/chart.umd.js

Runs ``npm pack PACKAGE@VERSION`` in a temporary folder, copies the named file (as
``NAME-VERSION.<ext>``) and the package's licence into ``src/bastion/web/static/vendor/``, and
writes version, sha256 and licence into ``manifest.json`` there, which
``tests/web/test_security.py::test_vendored_files_match_the_manifest`` checks. Reference the
file from a template as ``{{ static('vendor/NAME-VERSION.ext') }}``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

VENDOR = Path(__file__).resolve().parent.parent / "src/bastion/web/static/vendor"


def main() -> None:
    """Fetch, copy, hash, record."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", help="manifest key, e.g. 'chartjs'")
    parser.add_argument("package", help="npm package, e.g. 'chart.js'")
    parser.add_argument("version", help="exact version, e.g. '4.4.7'")
    parser.add_argument("file", help="path inside the package, e.g. 'dist/chart.umd.js'")
    parser.add_argument("--license", default="", help="SPDX id (default: package.json's)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        spec = f"{args.package}@{args.version}"
        out = subprocess.run(["npm", "pack", spec, "--silent"], cwd=tmp, check=True,
                             capture_output=True, text=True).stdout.strip().splitlines()[-1]
        with tarfile.open(Path(tmp) / out) as tar:
            tar.extractall(tmp, filter="data")
        package = Path(tmp) / "package"
        meta = json.loads((package / "package.json").read_text(encoding="utf-8"))
        source = package / args.file
        target = f"{args.name}-{args.version}{''.join(source.suffixes[-2:]) or '.js'}"
        licence = next(p for p in package.iterdir() if p.name.upper().startswith("LICEN"))
        shutil.copyfile(source, VENDOR / target)
        shutil.copyfile(licence, VENDOR / f"{args.name}-{args.version}.LICENSE")
    manifest_path = VENDOR / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest[args.name] = {
        "version": args.version, "package": spec, "fetched_with": f"npm pack {spec}",
        "file": target, "source_path": f"package/{args.file}",
        "sha256": hashlib.sha256((VENDOR / target).read_bytes()).hexdigest(),
        "license": args.license or str(meta.get("license", "")),
        "license_file": f"{args.name}-{args.version}.LICENSE",
    }
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    print(f"{target}  sha256 {manifest[args.name]['sha256']}")


if __name__ == "__main__":
    main()
