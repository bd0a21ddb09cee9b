"""Write a campaign's reports in every format."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, get_args

from bastion.errors import ConfigError
from bastion.redteam._summary import summarise
from bastion.redteam._types import Attempt
from bastion.redteam.reports._ci import junit_report, sarif_report
from bastion.redteam.reports._html import html_report
from bastion.redteam.reports._md import json_report, markdown_report

Format = Literal["json", "md", "html", "junit", "sarif"]
FORMATS: tuple[Format, ...] = get_args(Format)
SUFFIX = {"json": "json", "md": "md", "html": "html", "junit": "junit.xml",
          "sarif": "sarif"}


def render(fmt: Format, attempts: Sequence[Attempt], header: dict[str, Any]) -> str:
    """One report as text."""
    summary = summarise(attempts)
    if fmt == "json":
        return json_report(summary, header, attempts)
    if fmt == "md":
        return markdown_report(summary, header, attempts)
    if fmt == "html":
        return html_report(summary, header, attempts)
    if fmt == "junit":
        return junit_report(attempts)
    return sarif_report(attempts, header)


def write_reports(attempts: Sequence[Attempt], header: dict[str, Any], folder: Path,
                  formats: Sequence[Format] = FORMATS, stem: str = "redteam") -> list[Path]:
    """Write ``stem.<suffix>`` for each format into ``folder``; returns the paths.

    Raises:
        ConfigError: the folder cannot be made or written (a file of that name, no rights).
    """
    paths = []
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for fmt in formats:
            path = folder / f"{stem}.{SUFFIX[fmt]}"
            path.write_text(render(fmt, attempts, header), encoding="utf-8", errors="replace")
            paths.append(path)
    except OSError as exc:
        raise ConfigError(f"cannot write reports to {str(folder)!r}: {exc.strerror or exc}; "
                          "name a folder you can write to (it is made when missing)") from exc
    return paths
