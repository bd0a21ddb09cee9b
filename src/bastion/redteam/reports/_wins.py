"""Every success of a campaign as one table that filters with no script.

Each success is a ``tbody`` of two rows: its facts, and its transcript folded below them at
the table's full width.

The report's Content-Security-Policy forbids scripts, so the filters are radio buttons and
CSS: each value of a filter is a radio button placed before the table, and one rule per value
hides the successes that lack its class (``#w0-1:checked~.rows tbody:not(.w0-1)``). The
filters combine (a success must match each one). Ids and classes are made of indexes, never of
the attempts' text, so nothing hostile reaches the style sheet; a CSS counter says how many
successes are shown. Printed, the table keeps the successes the filters show, without the
controls and the transcripts (hundreds of them would run to hundreds of pages).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bastion.redteam._types import SEVERITY_RANK, Attempt
from bastion.taxonomy import label

# Each filter: its title, and the values an attempt takes in it.
FILTERS: tuple[tuple[str, Callable[[Attempt], tuple[str, ...]]], ...] = (
    ("severity", lambda a: (a.case.severity,)),
    ("probe", lambda a: (a.case.probe,)),
    ("category", lambda a: (a.case.category,)),
    ("OWASP", lambda a: tuple(label(i) for i in a.case.owasp)),
)
# Fixed column widths: the table fits a printed page, and no long id squeezes the others.
COLUMNS = "<colgroup>" + "<col>" * 7 + "</colgroup>"
STYLE = """
.wins-box{counter-reset:shown}.wins-box>label{margin-right:.75rem}
.rows{max-height:80vh;overflow:auto;border:1px solid #ccc}
.rows table{margin:0;width:100%;min-width:640px;table-layout:fixed}
.wins col:nth-child(1){width:11%}.wins col:nth-child(2){width:17%}.wins col:nth-child(3){width:10%}
.wins col:nth-child(4){width:12%}.wins col:nth-child(5){width:11%}.wins col:nth-child(6){width:16%}
.rows th{position:sticky;top:0;background:#eee}tbody.s{counter-increment:shown}
.count::before{content:counter(shown)}details.t{margin:0}
@media print{.wins-box>input,.wins-box>label,.wins-box>b,.wins-box>br,tr.t-row{display:none}
.rows{max-height:none;overflow:visible;border:0}details::details-content{content-visibility:visible}}
"""


def _order(title: str, values: Counter[str]) -> list[str]:
    """Severities from the worst, other values alphabetically."""
    if title == "severity":
        return sorted(values, key=lambda v: -SEVERITY_RANK.get(v, -1))
    return sorted(values)


@dataclass(frozen=True)
class Section:
    """A part of the page: its HTML and the style rules it needs in the page's head."""

    html: str
    style: str = ""


def successes(attempts: Sequence[Attempt], esc: Callable[..., str],
              transcript: Callable[[Attempt], str]) -> Section:
    """The "Every success" section: filters, the table (one row per success, its transcript
    folded in the row) and how many rows are shown.

    Args:
        attempts: the campaign's attempts; only the successes are listed.
        esc: the report's escaping function (text, optional length limit).
        transcript: renders an attempt's turns.
    """
    wins = sorted((a for a in attempts if a.success),
                  key=lambda a: (-SEVERITY_RANK[a.case.severity], a.case.id, a.id))
    head = f"<h2 id=every-success>Every success ({len(wins)})</h2>"
    if not wins:
        return Section(head + "<p>No attack succeeded.</p>")
    controls: list[str] = []
    rules: list[str] = []
    index: list[dict[str, int]] = []
    for f, (title, values_of) in enumerate(FILTERS):
        counts = Counter(v for a in wins for v in values_of(a))
        ids = {value: i for i, value in enumerate(_order(title, counts))}
        index.append(ids)
        controls.append(f"<b>{esc(title)}:</b> <input type=radio name=w{f} id=w{f}-all "
                        f"checked><label for=w{f}-all>all</label>")
        for value, i in ids.items():
            controls.append(f"<input type=radio name=w{f} id=w{f}-{i}><label for=w{f}-{i}>"
                            f"{esc(value, 60)} ({counts[value]})</label>")
            rules.append(f"#w{f}-{i}:checked~.rows tbody.s:not(.w{f}-{i}){{display:none}}")
        controls.append("<br>")
    rows = "".join(_row(a, index, esc, transcript) for a in wins)
    return Section(
        f"{head}<section class=wins-box>{''.join(controls)}<div class=rows><table class=wins>"
        f"{COLUMNS}<thead><tr><th>severity</th><th>case</th><th>strategy</th>"
        "<th>converters</th><th>seed</th><th>attempt</th><th>why</th></tr></thead>"
        f"{rows}</table></div>"
        f"<p class=shown><span class=count></span> of {len(wins)} shown</p></section>",
        STYLE + "".join(rules))


def _row(attempt: Attempt, index: list[dict[str, int]], esc: Callable[..., str],
         transcript: Callable[[Attempt], str]) -> str:
    classes = " ".join(f"w{f}-{index[f][v]}" for f, (_, values_of) in enumerate(FILTERS)
                       for v in values_of(attempt))
    a = attempt
    return (f'<tbody class="s {classes}"><tr><td class=sev>{esc(a.case.severity)}</td>'
            f"<td class=x>{esc(a.case.id)}</td>"
            f"<td>{esc(a.strategy)}</td><td>{esc(a.converter_label)}</td>"
            f"<td class=n>{a.seed}</td><td><code>{esc(a.id)}</code></td>"
            f'<td class="x why">{esc(a.reason, 300)}</td></tr><tr class=t-row><td colspan=7>'
            f"<details class=t><summary>transcript</summary>{transcript(a)}</details></td></tr>"
            "</tbody>")
