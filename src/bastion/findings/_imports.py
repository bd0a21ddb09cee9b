"""Import findings from other red-teaming tools' result files.

Each reader turns one file into submissions, one per successful attack:

- a Bastion campaign log (JSON Lines, ``bastion redteam run --log``): attempts that succeeded,
  or one attempt by id (the "one-click" import); the case becomes the finding's linked probe;
- garak ``report.jsonl``: ``entry_type == "attempt"`` lines of status 2 (evaluated) where a
  detector scored an output at or above 0.5 (garak's hit threshold);
- promptfoo results JSON (``promptfoo eval -o results.json``): results whose ``success`` is
  false because an assertion failed (in a red-team run a failed test is a successful attack);
  multi-turn results carry their turns in ``metadata.redteamHistory``;
- PyRIT memory exports (a JSON list of message pieces: ``role``, ``conversation_id``,
  ``sequence``, ``converted_value``, ``scores``): conversations a true/false scorer marked
  ``true``.

A file that is not what its format says is refused with :class:`~bastion.errors.InputError`
naming the file, the line or field, and what was expected.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bastion.errors import InputError
from bastion.findings._model import Submission, parse_submission
from bastion.redteam import Attempt, read_log

GARAK_HIT = 0.5
# Severity inputs for imported findings: a triager re-rates them; breadth 2 (one model, any
# user) and effort 3 (a tool found it, so anyone can replay it) are what an automated hit means.
_BREADTH, _EFFORT = 2, 3
_IMPACT = {"low": 1, "medium": 2, "high": 3, "critical": 4}


def _read(path: Path) -> str:
    try:
        return path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {str(path)!r}: {exc}") from exc


def _json(path: Path) -> Any:
    try:
        return json.loads(_read(path))
    except json.JSONDecodeError as exc:
        raise InputError(f"{str(path)!r} is not JSON (line {exc.lineno}: {exc.msg}); "
                         "export the results as JSON") from exc


def _jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, line in enumerate(_read(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}:{number}: not JSON ({exc.msg}); is this a JSON Lines "
                             "report?") from exc
        if not isinstance(row, dict):
            raise InputError(f"{path}:{number}: expected a JSON object per line")
        yield number, row


def _submission(**fields: Any) -> Submission:
    rate = fields.pop("repro_rate", None)
    impact = fields.pop("impact_level", 3)
    fields.setdefault("steps", "Replay the transcript against the same target.")
    return parse_submission({**fields, "repro_rate": rate,
                             "severity": {"impact": impact, "breadth": _BREADTH,
                                          "effort": _EFFORT,
                                          **({} if rate is not None else
                                             {"reproducibility": 2})}})


# -- Bastion campaign logs ------------------------------------------------------------------

def attempt_transcript(attempt: Attempt) -> list[dict[str, str]]:
    """The conversation an attempt had: planted context, then each kept exchange."""
    turns = [{"role": m.role, "content": m.content} for m in attempt.case.setup]
    for turn in attempt.turns:
        if turn.rewound or turn.error is not None:
            continue
        turns += [{"role": "user", "content": turn.prompt},
                  {"role": "assistant", "content": turn.response}]
    return turns


def from_campaign(path: Path, *, attempt_id: str | None = None, target: str | None = None,
                  engagement: str | None = None) -> list[Submission]:
    """Successful attempts of a campaign log (or the one attempt ``attempt_id``)."""
    try:
        header, attempts = read_log(path)
    except (KeyError, TypeError, ValueError) as exc:  # a line that is JSON but not an attempt
        raise InputError(f"{str(path)!r} is not a Bastion campaign log: a line lacks "
                         f"{exc}; pass the file 'bastion redteam run --log' wrote") from exc
    if not header:
        raise InputError(f"{str(path)!r} has no campaign header line; is it a Bastion "
                         "campaign log (bastion redteam run --log)?")
    config = header.get("config", {})
    name = target or str(config.get("target", "target"))
    by_case: dict[str, list[Attempt]] = defaultdict(list)
    for attempt in attempts:
        by_case[attempt.case.id].append(attempt)
    if attempt_id is not None:
        chosen = [a for a in attempts if a.id == attempt_id]
        if not chosen:
            raise InputError(f"campaign log {str(path)!r} has no attempt {attempt_id!r}")
    else:
        chosen = [a for a in attempts if a.success]
    return [_from_attempt(a, by_case[a.case.id], name, engagement, str(path)) for a in chosen]


def _from_attempt(attempt: Attempt, same_case: list[Attempt], target: str,
                  engagement: str | None, where: str) -> Submission:
    case = attempt.case
    wins = sum(1 for a in same_case if a.success)
    return _submission(
        title=f"{case.category}: {case.probe} ({attempt.strategy}, {attempt.converter_label})",
        target=target, engagement=engagement, owasp=case.owasp[0] if case.owasp else None,
        atlas=case.atlas[0] if case.atlas else None, policy_category=case.category,
        transcript=attempt_transcript(attempt), repro_rate=wins / len(same_case),
        impact=f"Automated scorers: {attempt.reason}", impact_level=_IMPACT[case.severity],
        steps=(f"bastion redteam replay: case {case.id}, strategy {attempt.strategy}, "
               f"converters {attempt.converter_label}, seed {attempt.seed}"),
        source="campaign", source_ref=f"{where}#{attempt.id}", probe=case.to_dict())


# -- garak ----------------------------------------------------------------------------------

def _garak_text(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("text") or "")
    return "" if value is None else str(value)


def _garak_turns(row: dict[str, Any], index: int) -> list[dict[str, str]]:
    conversations = row.get("conversations") or []
    if index < len(conversations) and isinstance(conversations[index], dict):
        return [{"role": str(t.get("role", "user")), "content": _garak_text(t.get("content"))}
                for t in conversations[index].get("turns", [])]
    prompt = row.get("prompt")
    if isinstance(prompt, dict):  # a Conversation
        turns = [{"role": str(t.get("role", "user")), "content": _garak_text(t.get("content"))}
                 for t in prompt.get("turns", [])]
    else:
        turns = [{"role": "user", "content": _garak_text(prompt)}]
    outputs = row.get("outputs") or []
    if index < len(outputs):
        turns.append({"role": "assistant", "content": _garak_text(outputs[index])})
    return turns


def from_garak(path: Path, *, target: str | None = None,
               engagement: str | None = None) -> list[Submission]:
    """Hits of a garak ``report.jsonl``: one finding per output a detector flagged."""
    model = target
    found: list[Submission] = []
    seen_attempts = False
    for number, row in _jsonl(path):
        kind = row.get("entry_type")
        if kind == "start_run setup" and model is None:
            model = row.get("plugins.model_name") or row.get("model_name")
        if kind != "attempt":
            continue
        seen_attempts = True
        if row.get("status") != 2:
            continue
        results = row.get("detector_results")
        if not isinstance(results, dict):
            raise InputError(f"{path}:{number}: attempt without 'detector_results'")
        outputs = row.get("outputs") or []
        for index in range(len(outputs)):
            hits = {d: s[index] for d, s in results.items()
                    if index < len(s) and s[index] is not None and s[index] >= GARAK_HIT}
            if not hits:
                continue
            probe = str(row.get("probe_classname", "garak"))
            found.append(_submission(
                title=f"garak {probe}: {', '.join(sorted(hits))}",
                target=str(model or "garak target"), engagement=engagement,
                transcript=_garak_turns(row, index),
                policy_category=probe.split(".", maxsplit=1)[0],
                impact=f"garak detectors {hits} (goal: {row.get('goal') or 'n/a'})",
                repro_rate=None, source="garak",
                source_ref=f"{path.name}:{number}#{row.get('uuid', '')}/{index}"))
    if not seen_attempts:
        raise InputError(f"{str(path)!r} holds no garak attempt lines (entry_type "
                         "'attempt'); pass garak's report.jsonl, not the hitlog or HTML")
    return found


# -- promptfoo ------------------------------------------------------------------------------

def _promptfoo_results(data: Any, path: Path) -> list[dict[str, Any]]:
    results = data.get("results") if isinstance(data, dict) else None
    if isinstance(results, dict):
        results = results.get("results")
    if not isinstance(results, list):
        raise InputError(f"{str(path)!r} is not a promptfoo results file: expected "
                         "{'results': {'results': [...]}} (promptfoo eval -o results.json)")
    return [r for r in results if isinstance(r, dict)]


def from_promptfoo(path: Path, *, target: str | None = None,
                   engagement: str | None = None) -> list[Submission]:
    """Failed tests of a promptfoo results JSON (a failed red-team test is a hit)."""
    found = []
    for index, result in enumerate(_promptfoo_results(_json(path), path)):
        if result.get("success", True) or result.get("failureReason") == 2:  # 2 = error
            continue
        meta = (result.get("testCase") or {}).get("metadata") or {}
        history = (result.get("metadata") or {}).get("redteamHistory") or \
            ((result.get("response") or {}).get("metadata") or {}).get("redteamHistory")
        if history:
            turns = [t for h in history for t in (
                {"role": "user", "content": str(h.get("prompt", ""))},
                {"role": "assistant", "content": str(h.get("output", ""))})]
        else:
            output = (result.get("response") or {}).get("output", "")
            turns = [{"role": "user", "content": str((result.get("prompt") or {}).get("raw"))},
                     {"role": "assistant", "content": output if isinstance(output, str)
                      else json.dumps(output)}]
        provider = result.get("provider") or {}
        grading = result.get("gradingResult") or {}
        plugin = str(meta.get("pluginId") or "promptfoo")
        found.append(_submission(
            title=f"promptfoo {plugin}" + (f" via {meta['strategyId']}"
                                           if meta.get("strategyId") else ""),
            target=target or str(provider.get("label") or provider.get("id") or "target"),
            engagement=engagement, transcript=turns, policy_category=plugin,
            impact=str(grading.get("reason") or "promptfoo assertion failed"),
            repro_rate=None, source="promptfoo",
            source_ref=f"{path.name}#{result.get('id') or index}"))
    return found


# -- PyRIT ----------------------------------------------------------------------------------

_PYRIT_ROLES = {"simulated_assistant": "assistant", "developer": "system"}


def _pyrit_hit(pieces: list[dict[str, Any]]) -> str | None:
    for piece in pieces:
        for score in piece.get("scores") or []:
            if (score.get("score_type") == "true_false"
                    and str(score.get("score_value")).lower() == "true"):
                return str(score.get("score_rationale") or score.get("score_category") or "")
    return None


def from_pyrit(path: Path, *, target: str | None = None,
               engagement: str | None = None) -> list[Submission]:
    """Conversations of a PyRIT memory export that a true/false scorer marked true."""
    data = _json(path)
    if not isinstance(data, list) or not all(isinstance(p, dict) for p in data):
        raise InputError(f"{str(path)!r} is not a PyRIT export: expected a JSON list of "
                         "message pieces (memory.export_conversations)")
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for number, piece in enumerate(data):
        if "conversation_id" not in piece or "role" not in piece:
            raise InputError(f"{str(path)!r} piece {number}: no 'conversation_id'/'role'; "
                             "is this a PyRIT memory export?")
        groups[str(piece["conversation_id"])].append(piece)
    found = []
    for conversation, pieces in groups.items():
        pieces.sort(key=lambda p: int(p.get("sequence") or 0))
        why = _pyrit_hit(pieces)
        if why is None:
            continue
        turns = [{"role": _PYRIT_ROLES.get(str(p["role"]), str(p["role"])),
                  "content": str(p.get("converted_value") or p.get("original_value") or "")}
                 for p in pieces]
        ident = next((p.get("prompt_target_identifier") for p in pieces
                      if p.get("prompt_target_identifier")), None) or {}
        labels = next((p.get("labels") for p in pieces if p.get("labels")), None) or {}
        harm = next((p.get("targeted_harm_categories") for p in pieces
                     if p.get("targeted_harm_categories")), None)
        found.append(_submission(
            title=f"PyRIT conversation {conversation[:8]}",
            target=target or str(ident.get("model_name") or ident.get("__type__") or "target"),
            engagement=engagement or labels.get("op_name"), transcript=turns,
            policy_category=harm[0] if harm else None, impact=why or "PyRIT scorer: true",
            repro_rate=None, source="pyrit", source_ref=f"{path.name}#{conversation}"))
    return found


Reader = Callable[..., list[Submission]]
READERS: dict[str, Reader] = {"campaign": from_campaign, "garak": from_garak,
                              "promptfoo": from_promptfoo, "pyrit": from_pyrit}


def read_findings(kind: str, path: Path, **options: Any) -> list[Submission]:
    """Submissions from a file of one of :data:`READERS`' formats.

    Raises:
        InputError: an unknown format, a file that is not in that format, or JSON nested
            past the parser's depth (Python's ``json`` raises ``RecursionError`` there, in
            every reader, the campaign log's included).
    """
    if kind not in READERS:
        raise InputError(f"unknown import format {kind!r}; use one of {', '.join(READERS)}")
    try:
        return READERS[kind](Path(path), **options)
    except RecursionError as exc:
        raise InputError(f"{str(path)!r} holds JSON nested too deeply to read; no {kind} "
                         "export nests like that: check that this is the right file") from exc
