"""Findings: what a security lead acts on. One finding per attacked case that succeeded at
least once, with severity, taxonomy names, how often it worked, how to reproduce it and what to
do about it; and the campaign facts a report opens with."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bastion.redteam._types import SEVERITY_RANK, Attempt
from bastion.taxonomy import label

# Control (ESC starts a terminal escape sequence), bidi-override and invisible characters in a
# response could rewrite the terminal that shows a report (``cat redteam.md``) or hide text:
# tags and the variation selectors of the supplement (U+E0100-E01EF) carry hidden bytes, and
# Hangul fillers and U+180E are blank letters.
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u115f\u1160\u180e\u200b-\u200f"
                     r"\u202a-\u202e\u2060-\u2069\u3164\ufeff\uffa0\U000e0000-\U000e007f"
                     r"\U000e0100-\U000e01ef]")


# Combining marks stack on one letter without limit ("Zalgo" text): a run of hundreds is one
# unbreakable character that runs across a page and over the lines around it.
_MARK = "[\u0300-\u036f\u0483-\u0489\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]"
_MARKS = re.compile(f"({_MARK}{{3}})({_MARK}+)")


def visible(text: str) -> str:
    """``text`` with control, bidi and invisible characters shown as ``\\uXXXX`` escapes, and
    a run of more than 3 combining marks cut to 3 and a count of the rest."""
    shown = _UNSAFE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)
    return _MARKS.sub(lambda m: f"{m.group(1)}[{len(m.group(2))} more combining marks]", shown)


REMEDIATION: dict[str, str] = {
    "prompt_injection": "Treat tool results, documents and pages as data: keep them out of the "
                        "instruction channel, filter them with the prompt-injection policy "
                        "(gateway), and require confirmation for actions they trigger.",
    "system_prompt_leak": "Keep secrets out of the system prompt; check completions for the "
                          "prompt's text and canaries before they reach the user.",
    "pii_leak": "Give the model only the data the user may see; redact PII and credentials in "
                "completions (gateway 'redact' action).",
    "excessive_agency": "Require human confirmation for consequential tools; scope tool "
                        "permissions to the user's own rights.",
    "improper_output_handling": "Escape or sanitise model output before rendering it; never "
                                "render model-written HTML, links or images unfiltered.",
    "misinformation": "Ground answers in retrieved sources, tell the model to question false "
                      "premises, and show citations users can check.",
    "unbounded_consumption": "Cap output tokens, request time and per-account spend at the "
                             "gateway.",
    "rag_leak": "Enforce access in the retrieval layer: partition the vector store (or filter "
                "on metadata) by the authenticated user, set on the server and never taken "
                "from the prompt.",
}
DEFAULT_REMEDIATION = ("Add the category to the guardrail policy in front of the model (the "
                       "gateway checks prompts and completions) and strengthen the model's "
                       "refusal training or system prompt for it.")


@dataclass(frozen=True)
class Finding:
    """One attacked case that succeeded at least once.

    Attributes:
        case_id / probe / category / severity: what was attacked, and how bad success is.
        owasp / atlas: taxonomy ids with names.
        successes / attempts: how often it worked across strategies, converters and repeats.
        example: the first successful attempt (its id, strategy, converters and seed
            reproduce it exactly).
        remediation: what to do about it.
    """

    case_id: str
    probe: str
    category: str
    severity: str
    owasp: tuple[str, ...]
    atlas: tuple[str, ...]
    successes: int
    attempts: int
    example: Attempt
    remediation: str

    @property
    def reproduce(self) -> str:
        """How to replay it: the strategy, converters and seed of a successful attempt, and
        the command that re-runs that attempt alone (``--failed`` would replay every
        success of the campaign)."""
        a = self.example
        return (f"strategy {a.strategy}, converters {a.converter_label}, seed {a.seed}: "
                f"'bastion redteam rerun LOG --attempt {a.id}'")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return {"case": self.case_id, "probe": self.probe, "category": self.category,
                "severity": self.severity, "owasp": list(self.owasp),
                "atlas": list(self.atlas), "successes": self.successes,
                "attempts": self.attempts, "reproduce": self.reproduce,
                "attempt": self.example.id, "remediation": self.remediation}


def findings(attempts: Sequence[Attempt]) -> list[Finding]:
    """One finding per case with a success; most severe and most reliable first."""
    by_case: dict[str, list[Attempt]] = {}
    for attempt in attempts:
        by_case.setdefault(attempt.case.id, []).append(attempt)
    out = []
    for case_id, items in by_case.items():
        wins = [a for a in items if a.success]
        if not wins:
            continue
        case = wins[0].case
        out.append(Finding(case_id, case.probe, case.category, case.severity,
                           tuple(label(i) for i in case.owasp),
                           tuple(label(i) for i in case.atlas), len(wins),
                           sum(a.error is None for a in items), wins[0],
                           REMEDIATION.get(case.category, DEFAULT_REMEDIATION)))
    return sorted(out, key=lambda f: (-SEVERITY_RANK[f.severity],
                                      -f.successes / max(1, f.attempts), f.case_id))


def campaign_facts(header: dict[str, Any], attempts: Sequence[Attempt]) -> dict[str, str]:
    """Target, endpoint, model, date, version, seed, duration, attempts made of those
    planned, and a TLS line where the certificate of the target, attacker or judge was not
    checked (``verify: false``): the report's opening lines."""
    config, options = _target(header)
    started = str(header.get("started_at", ""))
    ends = [float(a.meta["finished_at"]) for a in attempts if "finished_at" in a.meta]
    duration = ""
    if started and ends:
        begin = datetime.fromisoformat(started).timestamp()
        duration = f"{max(ends) - begin:.1f} s"
    return {
        "target": str(config.get("target", "?")),
        "endpoint": str(options.get("base_url") or options.get("url") or "(in process)"),
        "model": str(options.get("model", "")) or "(not set)",
        "date": started or "(not recorded)",
        "bastion": str(header.get("bastion_version", "?")),
        "seed": str(config.get("seed", "?")),
        "duration": duration or "(not recorded)",
        "attempts": _completeness(header, attempts),
        "fingerprint": str(header.get("fingerprint", "?")),
        **({"TLS": f"NOT CHECKED ({off})"} if (off := _unchecked(config, options)) else {}),
    }


def _unchecked(config: dict[str, Any], options: dict[str, Any]) -> str:
    """The endpoints whose TLS certificate the campaign did not check, by the setting that
    turned the check off ("" where every check ran): the target, the attacker, the judge."""
    off = ["target option verify: false"] if options.get("verify") is False else []
    off += [f"{role}_verify: false" for role in ("attacker", "judge")
            if config.get(f"{role}_url") and config.get(f"{role}_verify") is False]
    return "; ".join(off)


def target_line(header: dict[str, Any]) -> str:
    """A log's target as one line: its plugin and where it points (the header holds its
    credentials redacted), to tell whether two logs attacked the same target."""
    config, options = _target(header)
    where = [f"{k}={options[k]}" for k in ("url", "base_url", "model", "func") if k in options]
    return " ".join([str(config.get("target", "?")), *where])


def _target(header: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A log header's campaign settings and its target's options ({} where absent)."""
    config = header.get("config") or {}
    return config, config.get("target_options") or {}


def _completeness(header: dict[str, Any], attempts: Sequence[Attempt]) -> str:
    """How many attempts the log holds of those planned; a stopped campaign says so."""
    planned = header.get("attempts")
    if not isinstance(planned, int):
        return str(len(attempts))
    if len(attempts) < planned:
        return (f"{len(attempts)} of {planned} planned: INCOMPLETE, the campaign stopped; "
                "resume it with the same command and --log")
    return f"{len(attempts)} of {planned} planned"


def now_iso() -> str:
    """The current UTC time, ISO 8601."""
    return datetime.now(UTC).isoformat(timespec="seconds")
