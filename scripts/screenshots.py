"""Regenerate docs/screenshots/*.png: runs the network's, the findings' and the monitor's
browser tests with screenshots on.

Usage: ``PYTHONPATH=src .venv/bin/python scripts/screenshots.py``
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "docs" / "screenshots"


def main() -> int:
    """Run the browser flow test with ``BASTION_SCREENSHOTS_DIR`` set to docs/screenshots."""
    TARGET.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "BASTION_SCREENSHOTS_DIR": str(TARGET)}
    tests = ["tests/web/test_network_browser.py::test_apply_approve_join_use_key_and_removal",
             "tests/findings/test_web_browser.py::test_submit_dedupe_triage_fix_verify_regress",
             "tests/monitor/test_browser.py"]
    code = subprocess.call([sys.executable, "-m", "pytest", *tests, "-q"], cwd=ROOT, env=env)
    if code == 0:
        for path in sorted(TARGET.glob("*.png")):
            print(f"{path.relative_to(ROOT)}  {path.stat().st_size // 1024} KiB")
    return code


if __name__ == "__main__":
    raise SystemExit(main())
