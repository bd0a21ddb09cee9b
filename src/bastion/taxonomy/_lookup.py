"""One lookup for any taxonomy id Bastion writes: OWASP LLM Top 10 2025 or MITRE ATLAS."""

from __future__ import annotations

from bastion.errors import InputError
from bastion.taxonomy._atlas import load_atlas
from bastion.taxonomy._owasp import owasp_name


def taxonomy_name(taxonomy_id: str) -> str:
    """The name of an OWASP id (``LLM07:2025``) or an ATLAS technique id (``AML.T0056``).

    Raises:
        InputError: the id is neither, or is unknown to its taxonomy (the message says which).
    """
    if taxonomy_id.strip().upper().startswith("LLM"):
        return owasp_name(taxonomy_id)
    if taxonomy_id.strip().startswith("AML."):
        return load_atlas().technique(taxonomy_id).name
    raise InputError(f"unknown taxonomy id {taxonomy_id!r}: neither an OWASP LLM Top 10 2025 "
                     "id such as 'LLM01:2025' nor a MITRE ATLAS technique id such as "
                     "'AML.T0054'")


def label(taxonomy_id: str) -> str:
    """``id name`` for reports; the id alone when it is unknown (a third-party probe's own)."""
    try:
        return f"{taxonomy_id} {taxonomy_name(taxonomy_id)}"
    except InputError:
        return taxonomy_id
