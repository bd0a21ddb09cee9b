"""A self-contained HTML report: tables, inline SVG charts with confidence intervals, and the
worst transcripts.

Responses are hostile, so every piece of text goes through :func:`html.escape` (quotes too),
no text is ever placed in a script, style or URL, and a Content-Security-Policy forbids all
scripts, remote loads and any style but the report's own even if something slipped through.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from html import escape
from typing import Any

from bastion.redteam._summary import Rate, Summary, named
from bastion.redteam._types import Attempt
from bastion.redteam.reports._findings import campaign_facts, findings, visible
from bastion.redteam.reports._wins import successes

STYLE = """
body{font-family:system-ui,sans-serif;overflow-wrap:anywhere;margin:0 auto;padding:1rem;
max-width:1100px;color:#222}table{border-collapse:collapse;margin:0 0 1.5rem}
td,th{border:1px solid #ccc;padding:.25rem .5rem;overflow-wrap:break-word}td.n{text-align:right}
td.x{overflow-wrap:anywhere}.wide{overflow-x:auto}svg{max-width:100%;height:auto}
.findings{width:100%;min-width:640px;table-layout:fixed}.findings col:nth-child(1){width:11%}
.findings col:nth-child(2){width:17%}.findings col:nth-child(3){width:13%}
.findings col:nth-child(4){width:13%}.findings col:nth-child(5){width:9%}
.findings col:nth-child(6){width:17%}
pre{white-space:pre-wrap;word-break:break-word;background:#f6f6f6;
padding:.5rem;border-radius:4px}details{margin:.5rem 0}.bad{color:#b00020}.rew{opacity:.6}
@media print{body{max-width:none;padding:0;font-size:10pt}table{font-size:9pt}
td,th{padding:.2rem .3rem}
.wide{overflow:visible}}
"""
# A monospace character is 0.6 em wide: 7.2 px at the labels' 12 px (7 cut long labels).
BAR_H, PLOT_W, CHAR_W, RIGHT_W = 22, 460, 7.5, 120


def csp(style: str) -> str:
    """The page's Content-Security-Policy: no script, no request, and no style but the
    report's own sheet, named by its hash (text that slipped past escaping could not restyle
    the page: hide findings, or overlay fake ones)."""
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    return f"default-src 'none'; style-src 'sha256-{digest}'"


def _e(text: object, limit: int | None = None) -> str:
    shown = visible(str(text))
    if limit is not None and len(shown) > limit:
        shown = shown[:limit] + "…"
    return escape(shown, quote=True)


def svg_chart(rates: list[Rate]) -> str:
    """Horizontal bars of ASR per group, with 95% Wilson interval whiskers.

    The label column is as wide as the longest label (up to 60 characters; each label's full
    text is its tooltip), and the figures column fits ``100% (n=99999)``, so nothing is
    clipped.
    """
    longest = max((min(len(visible(r.group)), 60) for r in rates), default=10)
    label_w = round(12 + CHAR_W * longest)
    height = BAR_H * len(rates) + 30
    width = label_w + PLOT_W + RIGHT_W
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" '
             'aria-label="attack success rate chart">']
    for i, r in enumerate(rates):
        y = 10 + i * BAR_H
        bar = r.asr * PLOT_W
        lo, hi = label_w + r.low * PLOT_W, label_w + r.high * PLOT_W
        parts += [
            f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end" font-size="12" '
            f'font-family="monospace"><title>{_e(r.group)}</title>{_e(r.group, 59)}</text>',
            f'<rect x="{label_w}" y="{y + 3}" width="{bar:.1f}" height="{BAR_H - 8}" '
            'fill="#c0392b"/>',
            f'<line x1="{lo:.1f}" x2="{hi:.1f}" y1="{y + 11}" y2="{y + 11}" stroke="#222"/>',
            f'<text x="{label_w + PLOT_W + 6}" y="{y + 14}" font-size="12" '
            f'font-family="monospace">{r.asr:.0%} '
            f"(n={r.n})</text>",
        ]
    axis = 10 + len(rates) * BAR_H
    parts.append(f'<line x1="{label_w}" x2="{label_w + PLOT_W}" y1="{axis}" y2="{axis}" '
                 'stroke="#888"/></svg>')
    return "".join(parts)


def _table(rates: list[Rate]) -> str:
    rows = "".join(
        f"<tr><td>{_e(r.group)}</td><td class=n>{r.n}</td><td class=n>{r.successes}</td>"
        f"<td class=n>{r.asr:.1%}</td><td>{r.low:.1%} - {r.high:.1%}</td>"
        f"<td class=n>{r.errors}</td></tr>" for r in rates)
    return ("<div class=wide><table><tr><th>group</th><th>n</th><th>successes</th><th>ASR</th>"
            f"<th>95% CI</th><th>errors</th></tr>{rows}</table></div>")


def _pre(text: str, limit: int = 4000) -> str:
    """Text in a ``pre``; a longer text is cut, saying by how much and where it is whole."""
    shown = visible(text)
    if len(shown) <= limit:
        return f"<pre>{escape(shown)}</pre>"
    return (f"<pre>{escape(shown[:limit])}…</pre><p><i>{len(shown) - limit:,} more characters "
            "not shown: the JSON report and the campaign log hold the whole text.</i></p>")


def _turns(attempt: Attempt) -> str:
    return "".join(
        f'<div class="{"rew" if t.rewound else ""}"><b>turn {n}{" (rewound)" if t.rewound else ""}'
        f"</b>{_pre(t.prompt)}<b>response</b>{_pre(t.response)}</div>"
        for n, t in enumerate(attempt.turns, start=1))


def _transcript(attempt: Attempt) -> str:
    return (f"<details><summary class=bad>{_e(attempt.case.id)} · {_e(attempt.strategy)} · "
            f"{_e(attempt.converter_label)} · {_e(attempt.case.severity)}</summary>"
            f"<p>Why it counts: {_e(attempt.reason, 1000)}</p>{_turns(attempt)}</details>")


def _facts(header: dict[str, Any], attempts: Sequence[Attempt]) -> str:
    rows = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>"
                   for k, v in campaign_facts(header, attempts).items())
    return f"<table>{rows}</table>"


def _findings(attempts: Sequence[Attempt]) -> str:
    found = findings(attempts)
    if not found:
        return "<h2>Findings</h2><p>No attack succeeded.</p>"
    rows = "".join(
        f"<tr><td>{_e(f.severity)}</td><td class=x>{_e(f.case_id)}</td><td>{_e(', '.join(f.owasp))}"
        f"</td><td>{_e(', '.join(f.atlas))}</td><td class=n>{f.successes}/{f.attempts}</td>"
        f"<td class=x>{_e(f.reproduce)}</td><td class=x>{_e(f.remediation)}</td></tr>"
        for f in found)
    return ("<h2>Findings</h2><div class=wide><table class=findings><colgroup>"
            f"{'<col>' * 7}</colgroup><tr><th>severity</th><th>case</th>"
            "<th>OWASP</th><th>ATLAS</th><th>worked</th><th>reproduce</th><th>remediation</th></tr>"
            f"{rows}</table></div>")


def html_report(summary: Summary, header: dict[str, Any],
                attempts: Sequence[Attempt] = ()) -> str:
    """The whole report as one HTML document with no external resources."""
    o = summary.overall
    target = header.get("config", {}).get("target", "?")
    sections = []
    for title, rates in (("By category", summary.by_category),
                         ("By converter", summary.by_converter),
                         ("By strategy", summary.by_strategy), ("By probe", summary.by_probe),
                         ("By OWASP LLM Top 10 (2025)", named(summary.by_owasp)),
                         ("By MITRE ATLAS technique", named(summary.by_atlas))):
        sections.append(f"<h2>{_e(title)}</h2>{svg_chart(rates)}{_table(rates)}")
    worst = "".join(_transcript(a) for a in summary.worst) or "<p>No attack succeeded.</p>"
    wins = successes(attempts, _e, _turns)
    style = STYLE + wins.style
    return (
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width, initial-scale=1">'
        f'<meta http-equiv="Content-Security-Policy" content="{csp(style)}">'
        f"<title>Bastion red-team report</title><style>{style}</style></head><body>"
        f"<h1>Bastion red-team report</h1><p>Target <code>{_e(target)}</code>: {o.n} attempts "
        f"judged, {o.errors} errors. <b>Attack success rate {o.asr:.1%}</b> (95% Wilson CI "
        f"{o.low:.1%} - {o.high:.1%}).</p>{_facts(header, attempts)}{_findings(attempts)}"
        f"{''.join(sections)}{wins.html}<h2>Worst transcripts</h2>"
        f"{worst}</body></html>"
    )
