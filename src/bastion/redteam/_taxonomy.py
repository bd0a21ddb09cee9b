"""Taxonomy ids used to organise probes: OWASP Top 10 for LLM Applications 2025, MITRE ATLAS."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bastion.redteam._summary import Rate

OWASP: dict[str, str] = {
    "LLM01:2025": "Prompt Injection",
    "LLM02:2025": "Sensitive Information Disclosure",
    "LLM05:2025": "Improper Output Handling",
    "LLM06:2025": "Excessive Agency",
    "LLM07:2025": "System Prompt Leakage",
    "LLM09:2025": "Misinformation",
    "LLM10:2025": "Unbounded Consumption",
}

ATLAS: dict[str, str] = {
    "AML.T0029": "Denial of AI Service",
    "AML.T0034": "Cost Harvesting",
    "AML.T0048": "External Harms",
    "AML.T0050": "Command and Scripting Interpreter",
    "AML.T0051.000": "LLM Prompt Injection: Direct",
    "AML.T0051.001": "LLM Prompt Injection: Indirect",
    "AML.T0053": "LLM Plugin Compromise",
    "AML.T0054": "LLM Jailbreak",
    "AML.T0056": "LLM Meta Prompt Extraction",
    "AML.T0057": "LLM Data Leakage",
}

PROMPT_INJECTION = "LLM01:2025"
SENSITIVE_DISCLOSURE = "LLM02:2025"
EXCESSIVE_AGENCY = "LLM06:2025"
SYSTEM_PROMPT_LEAKAGE = "LLM07:2025"
IMPROPER_OUTPUT = "LLM05:2025"
MISINFORMATION = "LLM09:2025"
UNBOUNDED_CONSUMPTION = "LLM10:2025"
DENIAL_OF_SERVICE = "AML.T0029"
COST_HARVESTING = "AML.T0034"
SCRIPTING_INTERPRETER = "AML.T0050"
EXTERNAL_HARMS = "AML.T0048"
DIRECT_INJECTION = "AML.T0051.000"
INDIRECT_INJECTION = "AML.T0051.001"
PLUGIN_COMPROMISE = "AML.T0053"
JAILBREAK = "AML.T0054"
PROMPT_EXTRACTION = "AML.T0056"
DATA_LEAKAGE = "AML.T0057"


def label(taxonomy_id: str) -> str:
    """``id name`` for a known OWASP or ATLAS id (the id alone when unknown)."""
    name = OWASP.get(taxonomy_id) or ATLAS.get(taxonomy_id)
    return f"{taxonomy_id} {name}" if name else taxonomy_id


def named(rates: Sequence[Rate]) -> list[Rate]:
    """Rates grouped by taxonomy id, relabelled ``id name`` for reports."""
    return [replace(r, group=label(r.group)) for r in rates]
