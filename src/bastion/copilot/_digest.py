"""Threat-intelligence digests: indicators, ATLAS techniques, a summary and proposed probes.

The extractive summary picks the report's own sentences that carry the most techniques and
indicators; with an LLM configured the model writes it from fenced data. Proposed probes are
red-team :class:`~bastion.redteam.Case` records: the attack prompts the report quotes (code
blocks, block quotes, long quoted strings that read like prompts), tagged with the techniques
found, plus the names of built-in probes that test the same techniques.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from bastion.copilot._atlas import ATTRIBUTION, Technique, map_techniques
from bastion.copilot._backend import TemplateWriter, Writer, Written
from bastion.copilot._indicators import Indicator, extract
from bastion.copilot._reports import Report
from bastion.redteam import Case

MAX_CASES = 12
MIN_PROMPT = 40
#: ATLAS technique -> (case category, OWASP id, built-in probes that test it).
TECHNIQUE_PROBES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "AML.T0054": ("jailbreak", "LLM01:2025", ("jailbreak", "many_shot")),
    "AML.T0051": ("prompt_injection", "LLM01:2025", ("injection_direct", "injection_indirect")),
    "AML.T0051.000": ("prompt_injection", "LLM01:2025", ("injection_direct",)),
    "AML.T0051.001": ("prompt_injection", "LLM01:2025", ("injection_indirect",)),
    "AML.T0056": ("system_prompt_leak", "LLM07:2025", ("system_prompt_extraction",)),
    "AML.T0057": ("pii_leak", "LLM02:2025", ("pii_leak",)),
    "AML.T0068": ("jailbreak", "LLM01:2025", ("jailbreak",)),
    "AML.T0029": ("unbounded_consumption", "LLM10:2025", ("consumption",)),
    "AML.T0034": ("unbounded_consumption", "LLM10:2025", ("consumption",)),
    "AML.T0048": ("harmful", "LLM09:2025", ("harmful",)),
    "AML.T0077": ("output_handling", "LLM05:2025", ("output_handling",)),
}
_PROMPT_CUES = re.compile(r"\b(ignore|pretend|act as|you are|from now on|respond|answer|"
                          r"forget|disregard|roleplay|role-play|stay in character|system "
                          r"prompt|developer mode)\b", re.I)
_FENCE = re.compile(r"```[^\n]*\n(.*?)```", re.S)
_QUOTE = re.compile(r"[\"\u201c]([^\"\u201c\u201d\n]{40,1200})[\"\u201d]")  # MIN_PROMPT
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"\u201c(])")


@dataclass(frozen=True)
class Digest:
    """What the co-pilot made of one report.

    Attributes:
        summary: the digest's prose (and who wrote it).
        highlights: the report's own sentences that carry the most signal (extractive).
        cases: proposed red-team cases (review them before adding them to a campaign).
        probes: built-in probe names that test the techniques found.
    """

    report: str
    kind: str
    indicators: tuple[Indicator, ...]
    techniques: tuple[Technique, ...]
    summary: Written
    highlights: tuple[str, ...]
    cases: tuple[Case, ...]
    probes: tuple[str, ...]
    stix_objects: tuple[tuple[str, int], ...] = ()

    def indicators_by_kind(self) -> dict[str, list[str]]:
        """Indicator values grouped by kind."""
        grouped: dict[str, list[str]] = {}
        for indicator in self.indicators:
            grouped.setdefault(indicator.kind, []).append(indicator.value)
        return grouped

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return {"report": self.report, "kind": self.kind, "summary": self.summary.text,
                "mode": self.summary.mode, "note": self.summary.note,
                "highlights": list(self.highlights),
                "indicators": self.indicators_by_kind(),
                "techniques": [{"id": t.id, "name": t.name, "tactics": list(t.tactics),
                                "matched": list(t.matched), "mentions": t.mentions}
                               for t in self.techniques],
                "atlas_attribution": ATTRIBUTION,
                "stix_objects": dict(self.stix_objects),
                "probes": list(self.probes), "cases": [c.to_dict() for c in self.cases]}


def digest(report: Report, writer: Writer | None = None) -> Digest:
    """Indicators, techniques, summary and proposed probes of one report."""
    writer = writer or TemplateWriter()
    indicators = extract(report.text)
    techniques = map_techniques(report.text, explicit=report.explicit_techniques)
    highlights = _highlights(report.text, techniques, indicators)
    counts: Counter[str] = Counter(i.kind for i in indicators)
    facts = {"report": report.name, "kind": report.kind, "indicator_counts": dict(counts),
             "techniques": [f"{t.id} {t.name}" for t in techniques[:8]]}
    summary = writer.write(
        "Summarise this threat report for a defender of an AI application in at most five "
        "sentences: what the attackers do, against which models, and what to watch for.",
        facts, [report.text], fallback=_template(report, counts, techniques, highlights),
        sentences=5)
    cases = tuple(_cases(report, techniques))
    probes = tuple(sorted({p for t in techniques for p in _family(t.id)[2]}))
    return Digest(report.name, report.kind, tuple(indicators), tuple(techniques), summary,
                  tuple(highlights), cases, probes, report.stix_objects)


def _family(tid: str) -> tuple[str, str, tuple[str, ...]]:
    return TECHNIQUE_PROBES.get(tid) or TECHNIQUE_PROBES.get(tid.split(".", maxsplit=1)[0] + "." +
                                                             tid.split(".")[1], ("", "", ()))


def _sentences(text: str) -> list[str]:
    """Prose sentences: code blocks, headings and quoted prompts left out, paragraphs kept
    apart."""
    found = []
    for paragraph in re.split(r"\n\s*\n", _FENCE.sub("\n\n", text)):
        lines = [ln.strip() for ln in paragraph.splitlines()
                 if ln.strip() and not ln.lstrip().startswith(("#", ">"))]
        flat = " ".join(" ".join(lines).split())
        found += [s.strip() for s in _SENTENCE.split(flat) if 20 <= len(s.strip()) <= 400]
    return found


def _highlights(text: str, techniques: list[Technique], indicators: list[Indicator],
                top: int = 3) -> list[str]:
    words = [w for t in techniques for w in t.matched]
    values = [i.value for i in indicators]
    scored = []
    for n, sentence in enumerate(_sentences(text)):
        low = sentence.lower()
        score = (2 * sum(w.lower() in low for w in words) + sum(v.lower() in low for v in values)
                 + (0.5 if n < 2 else 0.0))
        if score > 0.5:
            scored.append((score, n, sentence))
    best = sorted(scored, key=lambda s: (-s[0], s[1]))[:top]
    return [s for _, _, s in sorted(best, key=lambda s: s[1])]


def _template(report: Report, counts: Counter[str], techniques: list[Technique],
              highlights: list[str]) -> str:
    named = ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "no indicators"
    parts = [f"{report.name} ({report.kind}) names {named}."]
    if techniques:
        main = "; ".join(f"{t.name} ({t.id})" for t in techniques[:3])
        parts.append(f"It maps to {len(techniques)} MITRE ATLAS technique(s), chiefly {main}.")
    else:
        parts.append("It names no MITRE ATLAS technique the co-pilot knows.")
    if highlights:
        parts.append("Key lines: " + " / ".join(highlights))
    return " ".join(parts)


def _candidates(text: str) -> list[str]:
    found = [b.strip() for b in _FENCE.findall(text)]
    quoted = [" ".join(ln.lstrip("> ").strip() for ln in block.split("\n"))
              for block in re.findall(r"(?:^>[^\n]*\n?)+", text, re.M)]
    found += [q.strip() for q in quoted] + [m.strip() for m in _QUOTE.findall(text)]
    seen: dict[str, None] = {}
    for candidate in found:
        if len(candidate) >= MIN_PROMPT and _PROMPT_CUES.search(candidate):
            seen.setdefault(candidate, None)
    return list(seen)


def _cases(report: Report, techniques: list[Technique]) -> list[Case]:
    slug = re.sub(r"[^a-z0-9]+", "-", report.name.lower()).strip("-")[:40] or "report"
    tested = [t for t in techniques if _family(t.id)[0]]
    lead = tested[0] if tested else None
    category, owasp, _ = _family(lead.id) if lead else ("jailbreak", "LLM01:2025", ())
    atlas = tuple(sorted({t.id for t in tested})) or ("AML.T0054",)
    return [Case(id=f"intel/{slug}-{n}", probe="cases_file", prompt=prompt, category=category,
                 owasp=(owasp,), atlas=atlas,
                 goal=f"reproduce the attack quoted in the threat report {report.name!r}",
                 technique="reported")
            for n, prompt in enumerate(_candidates(report.text)[:MAX_CASES], 1)]
