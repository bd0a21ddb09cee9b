"""NOTICE names every dataset a shipped artifact learned from, and none it must not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = sorted([*(ROOT / "src" / "bastion").glob("*/artifacts/*.json"),
                    *(ROOT / "src" / "bastion").glob("*/artifacts/*/card.json")])
MEASUREMENT_ONLY = ("toxicchat", "tweeteval", "tensor_trust", "malicious_instruct",
                    "refusal_direction")


def _sets(path: Path) -> set[str]:
    meta = json.loads(path.read_text(encoding="utf-8"))
    names = {str(entry.get("set") or str(entry.get("data", "")).split("/")[0])
             for entry in meta["trained_on"]}
    return names - {"", "tests", "bastion", "bastion-templates", "policy-pack", "bastion-own"}


def test_there_are_artifacts_to_check() -> None:
    assert len(ARTIFACTS) >= 3


@pytest.mark.parametrize("path", ARTIFACTS, ids=lambda p: p.name)
def test_notice_lists_what_each_artifact_learned_from(path: Path) -> None:
    notice = (ROOT / "NOTICE").read_text(encoding="utf-8")
    sets = _sets(path)
    missing = sorted(s for s in sets if s not in notice)
    assert not missing, f"{path.name} learned from {missing}, which NOTICE does not list"
    forbidden = sorted(s for s in _sets(path) if s.startswith(MEASUREMENT_ONLY))
    assert not forbidden, f"{path.name} learned from measurement-only sets {forbidden}"
