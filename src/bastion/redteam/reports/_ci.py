"""CI formats: JUnit XML (one test case per attempt) and SARIF 2.1.0 (one result per success)."""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from bastion.errors import ConfigError
from bastion.redteam._registry import plugin_class
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


def _physical(probe: str, config_file: str | None) -> dict[str, Any] | None:
    """Where a finding lives in the repository: the campaign file, else the probe's source."""
    if config_file:
        return {"artifactLocation": {"uri": Path(config_file).as_posix()},
                "region": {"startLine": 1}}
    try:
        cls = plugin_class("probes", probe)
        source = inspect.getsourcefile(cls)
        line = inspect.getsourcelines(cls)[1]
    except (ConfigError, OSError, TypeError):
        return None
    if source is None:
        return None
    try:
        uri = Path(source).resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return None  # installed elsewhere: not a location in the scanned repository
    return {"artifactLocation": {"uri": uri}, "region": {"startLine": line}}


def sarif_report(attempts: Sequence[Attempt], header: dict[str, Any] | None = None) -> str:
    """SARIF 2.1.0: one rule per probe, one result per successful attack.

    Each result's physical location is the campaign file when the run had one (so code
    scanning points at what to change), else the probe's definition when it lies in the
    scanned repository; the attacked case is its logical location.
    """
    config_file = (header or {}).get("config_file")
    probes = sorted({a.case.probe for a in attempts})
    rules = [{"id": probe, "name": probe, "shortDescription": {"text": f"Bastion probe {probe}"}}
             for probe in probes]
    places = {probe: _physical(probe, config_file) for probe in probes}
    results: list[dict[str, Any]] = [{
        "ruleId": a.case.probe, "level": SARIF_LEVEL[a.case.severity],
        "message": {"text": f"{a.case.id}: attack succeeded ({a.strategy}, "
                            f"{a.converter_label}): {a.reason[:500]}"},
        "locations": [{**({"physicalLocation": places[a.case.probe]}
                          if places[a.case.probe] else {}),
                       "logicalLocations": [{"name": a.case.id, "kind": "module"}]}],
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
