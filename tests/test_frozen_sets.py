"""The blind test sets are frozen: their hashes are recorded before any training, and a change
to one of them (which would invalidate every figure measured on it) fails this test."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
MANIFEST = BENCH / "blind" / "FROZEN.sha256"


def _entries() -> list[tuple[str, str]]:
    lines = MANIFEST.read_text(encoding="utf-8").splitlines()
    return [(name, digest) for digest, name in (line.split(maxsplit=1) for line in lines)]


@pytest.mark.parametrize(("name", "digest"), _entries())
def test_frozen_file_unchanged(name: str, digest: str) -> None:
    path = BENCH / name
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest, (
        f"{name} changed after it was frozen; figures measured on it are no longer blind")


def test_manifest_covers_every_blind_file() -> None:
    listed = {name for name, _ in _entries()}
    on_disk = {str(p.relative_to(BENCH)) for p in (BENCH / "custom_policies" / "test").glob("*")
               if p.suffix in (".md", ".jsonl") and p.name != "README.md"}
    on_disk |= {str(p.relative_to(BENCH)) for p in (BENCH / "blind").glob("*")
               if p.suffix in (".jsonl", ".txt")}
    on_disk |= {str(p.relative_to(BENCH)) for p in (BENCH / "data").glob("*/blind*.jsonl")}
    on_disk |= {str(p.relative_to(BENCH)) for name in _blind_code_pairs()
                for p in (BENCH / "data" / "code_pairs" / name).glob("*")}
    assert on_disk == listed


def _blind_code_pairs() -> list[str]:
    split = json.loads((BENCH / "data" / "code_pairs" / "split.json").read_text())
    return list(split["blind"])


def test_blind_code_pairs_are_frozen_and_apart() -> None:
    """The blind code pairs were written before the Semgrep rules were broadened: each one is
    in the manifest and in no other split, so no rule or threshold was chosen on it."""
    split = json.loads((BENCH / "data" / "code_pairs" / "split.json").read_text())
    blind = set(split["blind"])
    others = {name for part, names in split.items() if part != "blind" for name in names}
    listed = {Path(name).parent.name for name, _ in _entries() if name.startswith("data/code_pairs/")}
    assert len(blind) >= 20
    assert not blind & others
    assert blind == listed
