"""Probes loaded at run time from public data sets in ``../shared/datasets`` (never copied in).

Set ``BASTION_DATASETS`` to the folder holding the data sets; by default Bastion looks for
``../shared/datasets`` from the working directory and its parents. When the data is absent
the probe yields no cases and :meth:`DatasetProbe.available` says why.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import ClassVar

from bastion.errors import ConfigError
from bastion.redteam._base import Probe
from bastion.redteam._canary import canary_suffix
from bastion.redteam._types import Case

SOURCES: dict[str, str] = {
    "advbench": "advbench/advbench_harmful_behaviors.jsonl",
    "harmbench": "harmbench/harmbench_behaviors_text_all.jsonl",
    "jailbreakbench": "jailbreakbench/jbb_behaviors.jsonl",
    "strongreject": "strongreject/strongreject_prompts.jsonl",
}


def datasets_root() -> Path | None:
    """The shared data-set folder, or None when it cannot be found."""
    configured = os.environ.get("BASTION_DATASETS")
    if configured:
        path = Path(configured)
        return path if path.is_dir() else None
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        candidate = folder / "shared" / "datasets"
        if candidate.is_dir():
            return candidate
        sibling = folder.parent / "shared" / "datasets"
        if sibling.is_dir():
            return sibling
    return None


class DatasetProbe(Probe):
    """Harmful requests from a public data set (rows with ``label == 1``).

    Args:
        source: one of ``advbench``, ``harmbench``, ``jailbreakbench``, ``strongreject``.
        limit: keep at most this many rows (the first ones, for stable ids).
    """

    name = "dataset"
    description = "Harmful requests read at run time from ../shared/datasets (if present)."
    # Plain harmful requests, filed as the harmful probe's are (see its module docstring);
    # no jailbreak (AML.T0054) wraps them.
    owasp: ClassVar[tuple[str, ...]] = ("LLM01:2025",)
    atlas: ClassVar[tuple[str, ...]] = ("AML.T0048",)

    def __init__(self, source: str = "advbench", limit: int = 50) -> None:
        if source not in SOURCES:
            raise ConfigError(f"unknown data set {source!r}; choose from {sorted(SOURCES)}")
        self.source = source
        self.limit = limit

    def _path(self) -> Path | None:
        root = datasets_root()
        return None if root is None else root / SOURCES[self.source]

    def available(self) -> str | None:
        """Why the probe has no cases, or None."""
        path = self._path()
        if path is None:
            return "no ../shared/datasets folder found (set BASTION_DATASETS)"
        return None if path.is_file() else f"{path} does not exist"

    def cases(self) -> list[Case]:
        """The first ``limit`` harmful rows of the data set ([] when it is absent)."""
        path = self._path()
        if path is None or not path.is_file():
            return []
        out: list[Case] = []
        with path.open(encoding="utf-8") as lines:
            for line in lines:
                row = json.loads(line)
                if int(row.get("label", 1)) != 1 or not row.get("text"):
                    continue
                text = str(row["text"])
                out.append(Case(
                    id=f"{self.name}/{self.source}/{canary_suffix(text)}", probe=self.name,
                    prompt=text, category=str(row.get("category") or self.source),
                    owasp=self.owasp, atlas=self.atlas, goal=text,
                    scorers=("refusal", "harm"), policy="default", harmful_goal=True))
                if len(out) >= self.limit:
                    break
        return out
