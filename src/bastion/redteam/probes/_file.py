"""The ``cases_file`` probe: cases read from a JSON file, e.g. those the co-pilot's threat-intel
digest proposed (``bastion copilot digest REPORT --cases cases.json``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import ClassVar

from bastion.errors import ConfigError
from bastion.redteam._base import Probe
from bastion.redteam._types import Case


class CasesFile(Probe):
    """Cases written by ``bastion copilot digest --cases FILE`` (a JSON list of cases).

    Args:
        path: the cases file; without one the probe has no cases and says why.
    """

    name: ClassVar[str] = "cases_file"
    description: ClassVar[str] = ("Cases from a JSON file, e.g. attack prompts from threat "
                                  "reports proposed by the co-pilot's digest.")
    owasp: ClassVar[tuple[str, ...]] = ("LLM01:2025",)
    atlas: ClassVar[tuple[str, ...]] = ("AML.T0054",)

    def __init__(self, path: str | None = None) -> None:
        self.path = Path(path) if path else None

    def available(self) -> str | None:
        """Why there are no cases, if there are none."""
        if self.path is None:
            return "no cases file: pass probe_options: {cases_file: {path: cases.json}}"
        if not self.path.is_file():
            return f"cases file {str(self.path)!r} does not exist"
        return None

    def cases(self) -> list[Case]:
        """The file's cases, in file order."""
        if self.available() is not None or self.path is None:
            return []
        try:
            rows = json.loads(self.path.read_text(encoding="utf-8"))
            return [Case.from_dict(row) for row in rows]
        except (ValueError, TypeError, KeyError) as exc:
            raise ConfigError(f"cases file {str(self.path)!r} is not a JSON list of cases "
                              f"({exc}); write it with 'bastion copilot digest --cases'") from exc
