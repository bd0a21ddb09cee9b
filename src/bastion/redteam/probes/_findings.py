"""The ``findings`` probe: regression cases exported from accepted findings.

``bastion findings export cases.jsonl`` writes one case per accepted finding (JSON Lines, the
fields of :class:`~bastion.redteam.Case`); a campaign runs them with ``probes: [findings]`` and
``probe_options: {findings: {path: cases.jsonl}}``, so every fixed vulnerability stays tested.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import ClassVar

from bastion.errors import ConfigError
from bastion.redteam._base import Probe
from bastion.redteam._types import Case


class FindingsProbe(Probe):
    """Regression cases exported from accepted findings (``bastion findings export``).

    Args:
        path: the JSON Lines file ``bastion findings export`` wrote.
    """

    name = "findings"
    description = "Regression cases exported from accepted findings (JSON Lines)."
    owasp: ClassVar[tuple[str, ...]] = ()
    atlas: ClassVar[tuple[str, ...]] = ()

    def __init__(self, path: str | None = None) -> None:
        self.path = Path(path) if path else None

    def available(self) -> str | None:
        """Why there are no cases, or None."""
        if self.path is None:
            return "no 'path' option: export cases with 'bastion findings export' first"
        return None if self.path.is_file() else f"{self.path} does not exist"

    def cases(self) -> list[Case]:
        """The exported cases, in file order."""
        if self.available() is not None or self.path is None:
            return []
        try:
            return [Case.from_dict(json.loads(line))
                    for line in self.path.read_text("utf-8").splitlines() if line.strip()]
        except (ValueError, TypeError, KeyError) as exc:
            raise ConfigError(f"{self.path} is not a findings export: {exc}; write it with "
                              "'bastion findings export'") from exc
