"""Markdown and JSON reports."""

from __future__ import annotations

import json
from typing import Any

from bastion.redteam._summary import Rate, Summary
from bastion.redteam._taxonomy import named
from bastion.redteam._types import Attempt


def _cell(text: str, limit: int = 200) -> str:
    """Text made safe for one Markdown table cell or code span (no markup, no HTML)."""
    flat = " ".join(text.split())[:limit]
    for char in "\\`*_[]<>|#!":
        flat = flat.replace(char, "\\" + char)
    return flat


def _table(title: str, rates: list[Rate]) -> list[str]:
    lines = [f"### {title}", "", "| group | n | successes | ASR | 95% CI | errors |",
             "|---|---:|---:|---:|---|---:|"]
    lines += [f"| {_cell(r.group)} | {r.n} | {r.successes} | {r.asr:.1%} | "
              f"{r.low:.1%} - {r.high:.1%} | {r.errors} |" for r in rates]
    return [*lines, ""]


def _transcript(attempt: Attempt) -> list[str]:
    lines = [f"#### {_cell(attempt.case.id)} ({attempt.strategy}, "
             f"{_cell(attempt.converter_label)}, severity {attempt.case.severity})", "",
             f"Why it counts: {_cell(attempt.reason, 500)}", ""]
    for number, turn in enumerate(attempt.turns, start=1):
        mark = " (rewound)" if turn.rewound else ""
        lines += [f"- turn {number}{mark} **prompt**: {_cell(turn.prompt, 400)}",
                  f"- turn {number}{mark} **response**: {_cell(turn.response, 400)}"]
    return [*lines, ""]


def markdown_report(summary: Summary, header: dict[str, Any]) -> str:
    """A Markdown report: overall ASR, tables per grouping, the worst transcripts."""
    o = summary.overall
    config = header.get("config", {})
    lines = ["# Bastion red-team report", "",
             f"Target `{_cell(str(config.get('target', '?')))}`, {o.n} attempts judged, "
             f"{o.errors} errors. **Attack success rate {o.asr:.1%}** "
             f"(95% Wilson CI {o.low:.1%} - {o.high:.1%}).", ""]
    for title, rates in (("By category", summary.by_category),
                         ("By converter", summary.by_converter),
                         ("By strategy", summary.by_strategy), ("By probe", summary.by_probe),
                         ("By OWASP LLM Top 10 (2025)", named(summary.by_owasp)),
                         ("By MITRE ATLAS technique", named(summary.by_atlas))):
        lines += _table(title, rates)
    lines += ["## Worst transcripts", ""]
    for attempt in summary.worst:
        lines += _transcript(attempt)
    if not summary.worst:
        lines += ["No attack succeeded.", ""]
    return "\n".join(lines)


def json_report(summary: Summary, header: dict[str, Any]) -> str:
    """The summary and campaign header as one JSON document."""
    data = {"campaign": {k: v for k, v in header.items() if k != "target_secrets"},
            **summary.to_dict()}
    return json.dumps(data, ensure_ascii=True, indent=2)
