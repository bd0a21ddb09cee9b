"""Findings: reported vulnerabilities, their lifecycle, dedupe, severity and regression probes."""

from bastion.findings._dedupe import (
    Candidate,
    DedupeSettings,
    Fingerprint,
    attack_text,
    fingerprints,
    is_duplicate,
    output_text,
    rank,
    similarity,
    transcript_hash,
)
from bastion.findings._taxonomy import (
    ATLAS_ATTRIBUTION,
    ATLAS_ENV,
    OWASP_LLM_2025,
    AtlasTable,
    Technique,
    load_atlas,
    owasp_id,
    owasp_name,
    table_from_yaml,
)

__all__ = [
    "ATLAS_ATTRIBUTION",
    "ATLAS_ENV",
    "OWASP_LLM_2025",
    "AtlasTable",
    "Candidate",
    "DedupeSettings",
    "Fingerprint",
    "Technique",
    "attack_text",
    "fingerprints",
    "is_duplicate",
    "load_atlas",
    "output_text",
    "owasp_id",
    "owasp_name",
    "rank",
    "similarity",
    "table_from_yaml",
    "transcript_hash",
]
