"""The README's benchmark tables are generated from bench/results (bench/report.py)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_readme_benchmark_blocks_match_the_results() -> None:
    spec = importlib.util.spec_from_file_location("bench_report", ROOT / "bench" / "report.py")
    assert spec is not None
    assert spec.loader is not None
    report = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = report
    spec.loader.exec_module(report)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in report.BLOCKS:
        assert f"<!-- bench:{name} -->" in readme, f"README lacks the {name!r} block"
    assert report.render(readme) == readme, "run: python bench/report.py"
