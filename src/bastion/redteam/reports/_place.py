"""Where a campaign's findings live in the repository, for SARIF: the campaign file.

A finding is a weakness of the target, not of a line of code; what the repository holds about
it is the campaign file that attacks the target, and in it the line naming the probe that
found it. Code scanning (GitHub) resolves a result's path against the repository root, so the
path is made relative to the root of the repository holding the file (the nearest folder
above it with a ``.git``), whatever folder the campaign ran from. A file outside any
repository keeps an absolute ``file://`` URI: valid SARIF, but no code-scanning location.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


def _root(path: Path) -> Path | None:
    """The nearest folder above ``path`` holding ``.git`` (a folder or a worktree's file)."""
    return next((p for p in path.parents if (p / ".git").exists()), None)


def _probe_lines(text: str) -> dict[str, int]:
    """1-based lines of the ``probes`` key (under ``""``) and of each probe named under it."""
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return {}
    if not isinstance(node, yaml.MappingNode):
        return {}
    for key, value in node.value:
        if key.value == "probes":
            items = value.value if isinstance(value, yaml.SequenceNode) else []
            return {"": key.start_mark.line + 1,
                    **{item.value: item.start_mark.line + 1 for item in items
                       if isinstance(item, yaml.ScalarNode)}}
    return {}


def campaign_place(config_file: Path) -> dict[str, Any]:
    """The campaign file as SARIF locates it: ``uri`` (relative to its repository's root)
    and ``lines``, the line of each probe it names (``""``: the ``probes`` key)."""
    path = config_file.resolve()
    root = _root(path)
    uri = path.relative_to(root).as_posix() if root is not None else path.as_uri()
    try:
        lines = _probe_lines(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError):
        lines = {}
    return {"uri": uri, "lines": lines}


def physical_location(place: dict[str, Any] | None, probe: str) -> dict[str, Any] | None:
    """A SARIF ``physicalLocation`` of ``probe``'s line in the campaign file, or None."""
    if not place or not isinstance(place.get("uri"), str):
        return None
    lines = place.get("lines") or {}
    line = lines.get(probe) or lines.get("") or 1
    return {"artifactLocation": {"uri": place["uri"]}, "region": {"startLine": int(line)}}
