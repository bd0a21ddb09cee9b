"""Taxonomy ids used to organise probes: OWASP Top 10 for LLM Applications 2025, MITRE ATLAS."""

from __future__ import annotations

OWASP: dict[str, str] = {
    "LLM01:2025": "Prompt Injection",
    "LLM02:2025": "Sensitive Information Disclosure",
    "LLM05:2025": "Improper Output Handling",
    "LLM06:2025": "Excessive Agency",
    "LLM07:2025": "System Prompt Leakage",
    "LLM09:2025": "Misinformation",
}

ATLAS: dict[str, str] = {
    "AML.T0048": "External Harms",
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
EXTERNAL_HARMS = "AML.T0048"
DIRECT_INJECTION = "AML.T0051.000"
INDIRECT_INJECTION = "AML.T0051.001"
PLUGIN_COMPROMISE = "AML.T0053"
JAILBREAK = "AML.T0054"
PROMPT_EXTRACTION = "AML.T0056"
DATA_LEAKAGE = "AML.T0057"
