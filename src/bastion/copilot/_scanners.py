"""Code scanners behind one contract: Bandit and Semgrep (with Bastion's local rules).

Both run as subprocesses on an explicit list of files (so nothing a repository's ignore files
hide is skipped, and nothing is fetched: Semgrep runs with ``--metrics=off`` and only the rules
shipped in ``bastion/copilot/semgrep_rules``). Semgrep is optional: it pins libraries that
clash with Bastion's, so it lives in its own environment; set ``BASTION_SEMGREP`` to its
executable or put ``semgrep`` on ``PATH``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar, Literal

from bastion.errors import ConfigError, RuntimeFailure

Level = Literal["low", "medium", "high"]
SEMGREP_ENV = "BASTION_SEMGREP"
BATCH = 400
TIMEOUT_S = 600
SKIP_DIRS = frozenset({".git", ".hg", ".venv", "venv", "node_modules", "__pycache__", ".tox",
                       ".mypy_cache", ".ruff_cache", "build", "dist", "site-packages"})

#: Bandit's CWE for a few tests is broader than the weakness (B307 eval is filed under 78).
BANDIT_CWE = {"B102": 95, "B307": 95, "B301": 502, "B302": 502, "B506": 502, "B303": 328,
              "B324": 328, "B304": 327, "B305": 327, "B501": 295, "B323": 295, "B105": 798,
              "B106": 798, "B107": 798, "B311": 338, "B306": 377, "B108": 377, "B701": 79,
              "B704": 79, "B703": 79, "B113": 400, "B202": 22, "B320": 611, "B410": 611,
              "B608": 89}


@dataclass(frozen=True)
class RawFinding:
    """One scanner hit before deduplication.

    Attributes:
        path: relative to the scanned root, with forward slashes.
    """

    tool: str
    rule: str
    cwe: int | None
    severity: Level
    confidence: Level
    path: str
    line: int
    end_line: int
    message: str


class Scanner(ABC):
    """Runs one static analyser over files.

    Lifetime: cheap, stateless. Concurrency: share freely (each scan is its own process).
    Failure: :meth:`available` says why the tool cannot run; :meth:`scan` raises
    :class:`~bastion.errors.RuntimeFailure` when the tool crashes or answers garbage.
    """

    name: ClassVar[str] = "scanner"

    def available(self) -> str | None:
        """None when the scanner can run; otherwise why not and how to fix it."""
        return None

    @abstractmethod
    def scan(self, root: Path, files: Sequence[Path]) -> list[RawFinding]:
        """Findings in ``files`` (all under ``root``)."""


def _level(value: str) -> Level:
    low = value.lower()
    if low in ("error", "high", "critical"):
        return "high"
    if low in ("warning", "medium"):
        return "medium"
    return "low"


def _relative(root: Path, path: str) -> str:
    try:
        return Path(path).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return Path(path).as_posix()


def _run(command: list[str], tool: str, ok: tuple[int, ...]) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S,  # noqa: S603 - fixed argv, no shell
                              check=False)
    except subprocess.TimeoutExpired as exc:
        raise RuntimeFailure(f"{tool} did not finish within {TIMEOUT_S}s; scan a smaller "
                             "folder") from exc
    except OSError as exc:
        raise RuntimeFailure(f"cannot start {tool}: {exc.strerror}") from exc
    if done.returncode not in ok:
        raise RuntimeFailure(f"{tool} failed (exit {done.returncode}): "
                             f"{done.stderr.strip()[-300:]}")
    return done.stdout


class Bandit(Scanner):
    """Bandit, the Python AST security linter (run as ``python -m bandit``)."""

    name: ClassVar[str] = "bandit"

    def scan(self, root: Path, files: Sequence[Path]) -> list[RawFinding]:
        """Bandit's findings, its CWE refined by :data:`BANDIT_CWE`."""
        found: list[RawFinding] = []
        for start in range(0, len(files), BATCH):
            batch = [str(f) for f in files[start:start + BATCH]]
            out = _run([sys.executable, "-m", "bandit", "-f", "json", "-q", *batch], "bandit",
                       (0, 1))
            found += [self._finding(root, r) for r in _json(out, "bandit").get("results", [])]
        return found

    @staticmethod
    def _finding(root: Path, r: dict[str, Any]) -> RawFinding:
        test = str(r["test_id"])
        cwe_field = r.get("issue_cwe")
        cwe = BANDIT_CWE.get(test) or (int(cwe_field["id"]) if isinstance(cwe_field, dict)
                                       and cwe_field.get("id") else None)
        lines = r.get("line_range") or [r["line_number"]]
        assert isinstance(lines, list)
        return RawFinding("bandit", f"{test} {r.get('test_name', '')}".strip(), cwe,
                          _level(str(r["issue_severity"])), _level(str(r["issue_confidence"])),
                          _relative(root, str(r["filename"])), int(str(r["line_number"])),
                          int(lines[-1]), str(r["issue_text"]))


def rules_dir() -> Path:
    """The folder of Bastion's shipped Semgrep rules."""
    return Path(str(resources.files("bastion.copilot").joinpath("semgrep_rules")))


class Semgrep(Scanner):
    """Semgrep with Bastion's local rules, offline (``--metrics=off``).

    Args:
        executable: the ``semgrep`` program (default: ``$BASTION_SEMGREP`` or ``PATH``).
        rules: a rules folder or file (default: :func:`rules_dir`).
    """

    name: ClassVar[str] = "semgrep"

    def __init__(self, executable: str | None = None, rules: Path | None = None) -> None:
        self.executable = executable or os.environ.get(SEMGREP_ENV) or shutil.which("semgrep")
        self.rules = rules or rules_dir()
        if not self.rules.exists():
            raise ConfigError(f"semgrep rules {str(self.rules)!r} do not exist")

    def available(self) -> str | None:
        """Why Semgrep cannot run, if it cannot."""
        if not self.executable or not Path(self.executable).exists():
            return (f"semgrep is not installed; install it in its own environment (e.g. "
                    f"'pipx install semgrep') and set {SEMGREP_ENV} to the executable")
        return None

    def scan(self, root: Path, files: Sequence[Path]) -> list[RawFinding]:
        """Semgrep's findings for Bastion's rules."""
        if self.executable is None:
            raise ConfigError(self.available() or "semgrep is not available")
        found: list[RawFinding] = []
        for start in range(0, len(files), BATCH):
            batch = [str(f) for f in files[start:start + BATCH]]
            out = _run([self.executable, "scan", "--metrics=off", "--disable-version-check",
                        "--config", str(self.rules), "--json", "--quiet", *batch], "semgrep",
                       (0, 1))
            found += [self._finding(root, r) for r in _json(out, "semgrep").get("results", [])]
        return found

    @staticmethod
    def _finding(root: Path, r: dict[str, Any]) -> RawFinding:
        extra = r.get("extra")
        start, end = r.get("start"), r.get("end")
        assert isinstance(extra, dict)
        assert isinstance(start, dict)
        assert isinstance(end, dict)
        meta = extra.get("metadata") or {}
        cwe_text = str(meta.get("cwe", ""))
        match = re.match(r"CWE-(\d+)", cwe_text)
        cwe = int(match.group(1)) if match else None
        return RawFinding("semgrep", str(r["check_id"]).rsplit(".", 1)[-1], cwe,
                          _level(str(extra.get("severity", "INFO"))),
                          _level(str(meta.get("confidence", "MEDIUM"))),
                          _relative(root, str(r["path"])), int(start["line"]), int(end["line"]),
                          str(extra.get("message", "")))


def _json(text: str, tool: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise RuntimeFailure(f"{tool} printed something that is not JSON: {text[:200]!r}") from exc
    if not isinstance(data, dict):
        raise RuntimeFailure(f"{tool} printed JSON that is not an object")
    return data


def python_files(root: Path) -> list[Path]:
    """Every ``.py`` file under ``root`` (or ``root`` itself), skipping virtualenvs and VCS."""
    if root.is_file():
        return [root]
    found = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
        found += [Path(folder) / n for n in sorted(names) if n.endswith(".py")]
    return found
