"""CI formats: JUnit XML (one test case per attempt) and SARIF 2.1.0 (one result per success)."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from bastion import __version__
from bastion.redteam._summary import undecided
from bastion.redteam._types import SEVERITY_RANK, Attempt, Case
from bastion.redteam.reports._place import campaign_place, physical_location
from bastion.taxonomy import label

_XML_BAD = re.compile(r"[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
SARIF_LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note"}
NO_PLACE = ("The results name no file in a repository: the campaign ran without a campaign "
            "file (--config), or with one outside any git repository, and code scanning "
            "(GitHub) shows no result without one. Run it with --config and a campaign file "
            "in the repository to point each result at the line naming its probe.")
# GitHub code scanning reads 9.0 and above as critical, 7.0 high, 4.0 medium, 0.1 low.
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "2.0"}


def _x(text: str, limit: int = 4000) -> str:
    """Text XML 1.0 can carry (control characters and lone surrogates removed)."""
    return _XML_BAD.sub("\ufffd", text[:limit])


def junit_report(attempts: Sequence[Attempt]) -> str:
    """JUnit XML: suites per probe; a successful attack is a failed test, an error or an
    attempt no scorer could judge an error."""
    root = ET.Element("testsuites", name="bastion-redteam")
    suites: dict[str, ET.Element] = {}
    for attempt in attempts:
        suite = suites.get(attempt.case.probe)
        if suite is None:
            suite = suites[attempt.case.probe] = ET.SubElement(
                root, "testsuite", name=_x(attempt.case.probe))
        case = ET.SubElement(suite, "testcase", classname=_x(attempt.case.probe),
                             name=_x(f"{attempt.case.id} [{attempt.strategy}, "
                                     f"{attempt.converter_label}]"),
                             time=f"{attempt.duration_ms / 1000:.3f}")
        if attempt.error:
            ET.SubElement(case, "error", message=_x(attempt.error, 500))
        elif undecided(attempt):  # the gate counts it as an error: never a passed test
            ET.SubElement(case, "error", type="unjudged",
                          message=_x(f"could not be judged: {attempt.reason}", 500))
        elif attempt.success:
            failure = ET.SubElement(case, "failure", message=_x(attempt.reason, 500),
                                    type=attempt.case.severity)
            failure.text = _x(attempt.last_response)
    for suite in suites.values():
        cases = list(suite)
        suite.set("tests", str(len(cases)))
        suite.set("failures", str(sum(c.find("failure") is not None for c in cases)))
        suite.set("errors", str(sum(c.find("error") is not None for c in cases)))
    return ET.tostring(root, encoding="unicode", xml_declaration=True)


def _rule(probe: str, cases: Sequence[Case]) -> dict[str, Any]:
    """A SARIF rule for a probe: tagged ``security`` with its taxonomy labels, and its most
    severe case's score on GitHub's security-severity scale."""
    worst = max((c.severity for c in cases), key=SEVERITY_RANK.__getitem__)
    tags = sorted({label(i) for c in cases for i in (*c.owasp, *c.atlas)})
    return {"id": probe, "name": probe, "shortDescription": {"text": f"Bastion probe {probe}"},
            "properties": {"tags": ["security", *tags],
                           "security-severity": SECURITY_SEVERITY[worst]}}


def _unproven(attempts: Sequence[Attempt], header: dict[str, Any]) -> list[dict[str, Any]]:
    """An error notification for attempts that errored, went unjudged or never ran: a run
    that proved nothing had no result and no notification, so code scanning showed it clean."""
    failed = [a for a in attempts if a.error or undecided(a)]
    planned = header.get("attempts")
    missing = planned - len(attempts) if isinstance(planned, int) else 0
    if not failed and missing <= 0:
        return []
    first = f" (first: {(failed[0].error or failed[0].reason)[:300]})" if failed else ""
    return [{"level": "error", "message": {"text": (
        f"{len(failed)} of {len(attempts)} attempts errored or could not be judged and "
        f"{max(missing, 0)} planned attempts never ran{first}; the campaign proves nothing "
        "about them, and 'bastion redteam gate' fails it")}}]


def sarif_report(attempts: Sequence[Attempt], header: dict[str, Any] | None = None) -> str:
    """SARIF 2.1.0: one rule per probe, one result per successful attack.

    Each result's physical location is the line naming its probe in the campaign file, the
    path relative to the repository's root (see :mod:`._place`); a run without a campaign
    file has none, and its results carry only their logical location, the attacked case.
    """
    header = header or {}
    config_file = header.get("config_file")
    place = header.get("config_place") or (
        campaign_place(Path(config_file)) if isinstance(config_file, str) else None)
    probes = sorted({a.case.probe for a in attempts})
    rules = [_rule(probe, [a.case for a in attempts if a.case.probe == probe])
             for probe in probes]
    results: list[dict[str, Any]] = []
    for a in attempts:
        if not a.success:
            continue
        where = physical_location(place, a.case.probe)
        results.append({
            "ruleId": a.case.probe, "ruleIndex": probes.index(a.case.probe),
            "level": SARIF_LEVEL[a.case.severity],
            "message": {"text": f"{a.case.id}: attack succeeded ({a.strategy}, "
                                f"{a.converter_label}): {a.reason[:500]}"},
            "locations": [{**({"physicalLocation": where} if where else {}),
                           "logicalLocations": [{"name": a.case.id, "kind": "module"}]}],
            "partialFingerprints": {"bastionAttempt": a.id},
            "properties": {"owasp": [label(i) for i in a.case.owasp],
                           "atlas": [label(i) for i in a.case.atlas],
                           "category": a.case.category},
        })
    run: dict[str, Any] = {"tool": {"driver": {"name": "bastion-redteam", "version": __version__,
                                               "rules": rules}},
                           "results": results}
    notes = _unproven(attempts, header)
    if results and (place is None or str(place.get("uri", "")).startswith("file:")):
        notes.append({"level": "warning", "message": {"text": NO_PLACE}})
    if notes:
        run["invocations"] = [{"executionSuccessful": not any(
            n["level"] == "error" for n in notes), "toolExecutionNotifications": notes}]
    doc = {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0",
           "runs": [run]}
    return json.dumps(doc, ensure_ascii=True, indent=2)
