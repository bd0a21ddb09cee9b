"""Code-vulnerability help: run the scanners, deduplicate and rank, explain each finding in
its code context and propose a patch."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bastion.copilot._backend import TemplateWriter, Writer, Written
from bastion.copilot._patches import advice, patch
from bastion.copilot._scanners import (
    Bandit,
    RawFinding,
    Scanner,
    Semgrep,
    python_files,
)
from bastion.errors import InputError

SEVERITY_WEIGHT = {"low": 1.0, "medium": 2.0, "high": 3.0}
CONFIDENCE_WEIGHT = {"low": 0.4, "medium": 0.7, "high": 1.0}
AGREEMENT = 1.25  # both scanners flag it
NEAR = 2  # lines apart that still count as one finding
CONTEXT = 3


@dataclass(frozen=True)
class CodeFinding:
    """One deduplicated, ranked finding with its context, explanation and patch.

    Attributes:
        tools: the scanners that reported it; ``rules`` their rule ids.
        score: severity x confidence (x 1.25 when both scanners agree).
        context: the flagged lines with ``CONTEXT`` lines around, numbered.
        patch: a unified diff from the CWE's template, or None when no safe rewrite exists.
    """

    path: str
    line: int
    end_line: int
    cwe: int | None
    severity: str
    confidence: str
    tools: tuple[str, ...]
    rules: tuple[str, ...]
    message: str
    score: float
    context: str
    explanation: Written
    patch: str | None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return {"path": self.path, "line": self.line, "end_line": self.end_line,
                "cwe": f"CWE-{self.cwe}" if self.cwe else None, "severity": self.severity,
                "confidence": self.confidence, "tools": list(self.tools),
                "rules": list(self.rules), "message": self.message,
                "score": round(self.score, 3), "context": self.context,
                "explanation": self.explanation.text, "mode": self.explanation.mode,
                "patch": self.patch}


@dataclass(frozen=True)
class CodeReport:
    """The outcome of :func:`scan_code`."""

    root: str
    files: int
    scanners: tuple[str, ...]
    skipped: tuple[tuple[str, str], ...]
    findings: tuple[CodeFinding, ...]

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return {"root": self.root, "files": self.files, "scanners": list(self.scanners),
                "skipped": dict(self.skipped),
                "findings": [f.to_json() for f in self.findings]}


def default_scanners() -> list[Scanner]:
    """Bandit and Semgrep (Semgrep is skipped with a reason when not installed)."""
    return [Bandit(), Semgrep()]


def scan_code(root: Path, *, scanners: Sequence[Scanner] | None = None,
              writer: Writer | None = None, min_score: float = 0.0) -> CodeReport:
    """Scan the Python files under ``root``; findings ranked, most urgent first.

    Args:
        min_score: drop findings scoring below this (see :attr:`CodeFinding.score`).

    Raises:
        InputError: ``root`` does not exist.
        RuntimeFailure: a scanner crashed.
    """
    if not root.exists():
        raise InputError(f"{str(root)!r} does not exist; pass a repository folder or a file")
    base = root if root.is_dir() else root.parent
    files = python_files(root)
    ran, skipped, raw = [], [], []
    for scanner in scanners if scanners is not None else default_scanners():
        why = scanner.available()
        if why is not None:
            skipped.append((scanner.name, why))
            continue
        ran.append(scanner.name)
        if files:
            raw += scanner.scan(base, files)
    writer = writer or TemplateWriter()
    merged = [_finding(base, group, writer) for group in dedupe(raw)]
    ranked = sorted((f for f in merged if f.score >= min_score),
                    key=lambda f: (-f.score, f.path, f.line))
    return CodeReport(str(root), len(files), tuple(ran), tuple(skipped), tuple(ranked))


def dedupe(raw: Sequence[RawFinding]) -> list[list[RawFinding]]:
    """Group hits on the same weakness: same file, same CWE (or rule), lines near each other."""
    groups: list[list[RawFinding]] = []
    for hit in sorted(raw, key=lambda r: (r.path, r.line, r.tool)):
        for group in groups:
            head = group[0]
            same = (hit.cwe == head.cwe if hit.cwe and head.cwe else hit.rule == head.rule)
            if head.path == hit.path and same and abs(hit.line - head.line) <= NEAR:
                group.append(hit)
                break
        else:
            groups.append([hit])
    return groups


def score(group: Sequence[RawFinding]) -> float:
    """Severity x confidence of the strongest hit, x 1.25 when two scanners agree."""
    best = max(SEVERITY_WEIGHT[h.severity] * CONFIDENCE_WEIGHT[h.confidence] for h in group)
    return best * (AGREEMENT if len({h.tool for h in group}) > 1 else 1.0)


def _finding(base: Path, group: Sequence[RawFinding], writer: Writer) -> CodeFinding:
    top = max(group, key=lambda h: (SEVERITY_WEIGHT[h.severity], CONFIDENCE_WEIGHT[h.confidence]))
    cwe = next((h.cwe for h in group if h.cwe), None)
    line, end = min(h.line for h in group), max(h.end_line for h in group)
    source = _source(base / top.path)
    context = _context(source, line, end)
    tip = advice(cwe)
    tools = tuple(sorted({h.tool for h in group}))
    fallback = (f"{tip.title}{f' (CWE-{cwe})' if cwe else ''} at {top.path}:{line}, reported "
                f"by {' and '.join(tools)}: {top.message} Why it matters: {tip.why}. "
                f"Fix: {tip.fix}.")
    written = writer.write(
        "Explain this static-analysis finding in its code context for the developer who owns "
        "the code, then propose a minimal patch as a unified diff.",
        {"cwe": cwe, "path": top.path, "line": line, "tools": list(tools),
         "rule": top.rule, "scanner_message": top.message}, [context], fallback=fallback,
        sentences=6)
    return CodeFinding(top.path, line, end, cwe, top.severity, top.confidence, tools,
                       tuple(sorted({h.rule for h in group})), top.message, score(group),
                       context, written, patch(source, top.path, line, end, cwe))


def _source(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _context(source: str, line: int, end: int) -> str:
    lines = source.splitlines()
    start, stop = max(1, line - CONTEXT), min(len(lines), end + CONTEXT)
    return "\n".join(f"{'>' if line <= n <= end else ' '}{n:5d}  {lines[n - 1]}"
                     for n in range(start, stop + 1))
