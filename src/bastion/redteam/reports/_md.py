"""Markdown and JSON reports."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from bastion.redteam._summary import Rate, Summary, named
from bastion.redteam._types import Attempt
from bastion.redteam.reports._findings import campaign_facts, findings, visible

#: What a GitHub-flavoured Markdown renderer turns into a link by itself (an extended
#: autolink): a web address after a scheme or ``www.``, and an email address.
_LINKABLE = re.compile(r"(?i)\b(?:(?:https?|ftp)://|www\.)[^\s<>]*|[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_SCHEME = re.compile(r"(?i)\b(h)tt(ps?)(?=://)|\b(f)t(p)(?=://)")


def _defanged(text: str) -> str:
    """``text`` with every address a renderer would make a link written so that none does
    (``https://evil.example/x`` -> ``hxxps://evil[.]example/x``, ``bob@evil.example`` ->
    ``bob[@]evil[.]example``), as threat reports write them: a model's answer may carry a
    phishing link, and a report read on a code host must not offer it as one. The JSON report
    keeps the text as it came."""
    def defang(match: re.Match[str]) -> str:
        address = _SCHEME.sub(lambda m: f"{m[1]}xx{m[2]}" if m[1] else f"{m[3]}x{m[4]}",
                              match.group(0))
        scheme, sep, rest = address.rpartition("://")
        host, slash, path = rest.partition("/")
        return f"{scheme}{sep}{host.replace('.', '[.]').replace('@', '[@]')}{slash}{path}"

    return _LINKABLE.sub(defang, text)


def _cell(text: str, limit: int = 200, *, defang: bool = True) -> str:
    """Text made safe for one Markdown table cell or code span (no markup, no HTML, no
    address a renderer would turn into a link unless ``defang`` is false (:func:`_defanged`),
    and no character reference: ``&ZeroWidthSpace;`` or ``&rlm;`` would render what
    :func:`visible` shows as an escape)."""
    flat = visible(" ".join(text.split()))[:limit]
    if defang:
        flat = _defanged(flat)
    for char in "\\`*_[]<>|#!&":
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


def _facts(header: dict[str, Any], attempts: Sequence[Attempt]) -> list[str]:
    facts = campaign_facts(header, attempts)
    return ["| campaign | |", "|---|---|",
            # the operator's own target address stays as written
            *(f"| {name} | {_cell(value, defang=False)} |" for name, value in facts.items()),
            ""]


def _findings(attempts: Sequence[Attempt]) -> list[str]:
    found = findings(attempts)
    if not found:
        return ["## Findings", "", "No attack succeeded.", ""]
    lines = ["## Findings", "", "| severity | case | OWASP | ATLAS | worked | reproduce | "
             "remediation |", "|---|---|---|---|---:|---|---|"]
    lines += [f"| {f.severity} | {_cell(f.case_id)} | {_cell(', '.join(f.owasp))} | "
              f"{_cell(', '.join(f.atlas))} | {f.successes}/{f.attempts} | "
              f"{_cell(f.reproduce)} | {_cell(f.remediation, 300)} |" for f in found]
    return [*lines, ""]


def _all_successes(attempts: Sequence[Attempt]) -> list[str]:
    wins = [a for a in attempts if a.success]
    lines = ["## Every success", "", f"{len(wins)} successful attempts, by category (the "
             "JSON report holds them all in full).", ""]
    for category in sorted({a.case.category for a in wins}):
        lines += [f"### {_cell(category)}", "", "| attempt | case | strategy | converters | "
                  "seed | why |", "|---|---|---|---|---:|---|"]
        lines += [f"| {a.id} | {_cell(a.case.id)} | {a.strategy} | "
                  f"{_cell(a.converter_label)} | {a.seed} | {_cell(a.reason, 160)} |"
                  for a in wins if a.case.category == category]
        lines.append("")
    return lines


def markdown_report(summary: Summary, header: dict[str, Any],
                    attempts: Sequence[Attempt] = ()) -> str:
    """A Markdown report: campaign facts, overall ASR, findings, tables per grouping (probe,
    OWASP and ATLAS with names), every success, and the worst transcripts."""
    o = summary.overall
    config = header.get("config", {})
    lines = ["# Bastion red-team report", "",
             f"Target `{_cell(str(config.get('target', '?')))}`, {o.n} attempts judged, "
             f"{o.errors} errors. **Attack success rate {o.asr:.1%}** "
             f"(95% Wilson CI {o.low:.1%} - {o.high:.1%}).", "", *_facts(header, attempts),
             *_findings(attempts)]
    for title, rates in (("By probe", summary.by_probe), ("By category", summary.by_category),
                         ("By converter", summary.by_converter),
                         ("By strategy", summary.by_strategy),
                         ("By OWASP LLM Top 10 (2025)", named(summary.by_owasp)),
                         ("By MITRE ATLAS technique", named(summary.by_atlas))):
        lines += _table(title, rates)
    lines += _all_successes(attempts)
    lines += ["## Worst transcripts", ""]
    for attempt in summary.worst:
        lines += _transcript(attempt)
    if not summary.worst:
        lines += ["No attack succeeded.", ""]
    return "\n".join(lines)


def json_report(summary: Summary, header: dict[str, Any],
                attempts: Sequence[Attempt] = ()) -> str:
    """The summary, campaign facts, findings and every success as one JSON document."""
    data = {"campaign": {k: v for k, v in header.items() if k != "target_secrets"},
            "facts": campaign_facts(header, attempts),
            "findings": [f.to_dict() for f in findings(attempts)],
            **summary.to_dict(),
            "successes": [a.to_dict() for a in attempts if a.success]}
    return json.dumps(data, ensure_ascii=True, indent=2)
