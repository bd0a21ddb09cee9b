"""CI formats: JUnit XML (one test case per attempt) and SARIF 2.1.0 (one result per success)."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any
from xml.etree import ElementTree as ET

from bastion.redteam._types import Attempt

_XML_BAD = re.compile(r"[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
SARIF_LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note"}


def _x(text: str, limit: int = 4000) -> str:
    """Text XML 1.0 can carry (control characters and lone surrogates removed)."""
    return _XML_BAD.sub("\ufffd", text[:limit])


def junit_report(attempts: Sequence[Attempt]) -> str:
    """JUnit XML: suites per probe; a successful attack is a failed test, an error an error."""
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


def sarif_report(attempts: Sequence[Attempt]) -> str:
    """SARIF 2.1.0: one rule per probe, one result per successful attack."""
    probes = sorted({a.case.probe for a in attempts})
    rules = [{"id": probe, "name": probe, "shortDescription": {"text": f"Bastion probe {probe}"}}
             for probe in probes]
    results: list[dict[str, Any]] = [{
        "ruleId": a.case.probe, "level": SARIF_LEVEL[a.case.severity],
        "message": {"text": f"{a.case.id}: attack succeeded ({a.strategy}, "
                            f"{a.converter_label}): {a.reason[:500]}"},
        "locations": [{"logicalLocations": [{"name": a.case.id, "kind": "module"}]}],
        "partialFingerprints": {"bastionAttempt": a.id},
        "properties": {"owasp": list(a.case.owasp), "atlas": list(a.case.atlas),
                       "category": a.case.category},
    } for a in attempts if a.success]
    doc = {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0",
           "runs": [{"tool": {"driver": {"name": "bastion-redteam",
                                         "informationUri": "https://example.invalid/bastion",
                                         "rules": rules}},
                     "results": results}]}
    return json.dumps(doc, ensure_ascii=True, indent=2)
