"""The README shows what the commands print and what bench/results/ holds; drift fails here."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "readme_tour.py"
sys.path.insert(0, str(SCRIPT.parent))

from _tour import Tour  # noqa: E402 - lives in scripts/


def tour(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True,
                          check=False, timeout=900)


def test_masking_hides_what_varies_and_keeps_every_figure() -> None:
    run1 = "│ overall │ 27 │ 0.923 │ 0.906 │\nlatency 12.5 ms key_0123456789ab bst-abc_DEF"
    run2 = "│ overall   │ 27 │ 0.923 │ 0.906 │\nlatency 3.1 ms key_ba9876543210 bst-xyz_123"
    assert Tour.mask(run1) == Tour.mask(run2)
    assert Tour.mask(run1) != Tour.mask(run1.replace("0.906", "0.885"))
    assert Tour.mask("ASR 35.8%") != Tour.mask("ASR 30.0%")


def test_the_benchmark_tables_match_bench_results() -> None:
    done = tour("--check", "--tables-only")
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.slow
def test_the_readme_tour_runs_as_written_and_its_output_has_not_drifted() -> None:
    # Every command of the tour runs (servers included); ~20 s on the development machine.
    if shutil.which("curl") is None:
        pytest.skip("the README tour calls curl; install it (apt-get install curl)")
    done = tour("--check")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "blocks match a fresh run" in done.stdout
