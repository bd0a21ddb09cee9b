"""OWASP Top 10 for LLM Applications, 2025 edition: ten ids and their published names.

The list is short, fixed and published (https://genai.owasp.org/llm-top-10/), so it is written
here rather than generated.
"""

from __future__ import annotations

from types import MappingProxyType

from bastion.errors import InputError

OWASP_LLM_2025 = MappingProxyType({
    "LLM01:2025": "Prompt Injection",
    "LLM02:2025": "Sensitive Information Disclosure",
    "LLM03:2025": "Supply Chain",
    "LLM04:2025": "Data and Model Poisoning",
    "LLM05:2025": "Improper Output Handling",
    "LLM06:2025": "Excessive Agency",
    "LLM07:2025": "System Prompt Leakage",
    "LLM08:2025": "Vector and Embedding Weaknesses",
    "LLM09:2025": "Misinformation",
    "LLM10:2025": "Unbounded Consumption",
})


def owasp_id(owasp: str) -> str:
    """The canonical ``LLMnn:2025`` form of an id given as ``LLM01``, ``llm01`` or ``LLM01:2025``.

    Raises:
        InputError: the id is not one of the ten of the 2025 edition.
    """
    key = owasp.strip().upper()
    key = key if ":" in key else f"{key}:2025"
    if key not in OWASP_LLM_2025:
        raise InputError(f"unknown OWASP LLM Top 10 id {owasp!r}; use one of "
                         f"{', '.join(OWASP_LLM_2025)} (the 2025 edition)")
    return key


def owasp_name(owasp: str) -> str:
    """The published name of an OWASP LLM Top 10 2025 id (``LLM01`` or ``LLM01:2025``).

    Raises:
        InputError: the id is not one of the ten of the 2025 edition.
    """
    return OWASP_LLM_2025[owasp_id(owasp)]
