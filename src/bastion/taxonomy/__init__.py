"""Taxonomies Bastion files attacks and findings under: OWASP LLM Top 10 2025 and MITRE ATLAS.

The one place these ids and names live. Red-team probes, findings and the co-pilot all look
them up here: :func:`owasp_name` / :func:`owasp_id` for the ten OWASP ids,
:func:`load_atlas` for the ATLAS table (shipped, generated from MITRE's ``ATLAS.yaml`` by
``scripts/atlas_table.py``, or a user's own through ``$BASTION_ATLAS``), and
:func:`taxonomy_name` / :func:`label` for either kind. Unknown ids raise
:class:`~bastion.errors.InputError` naming valid ones. ATLAS data: MITRE ATLAS, Apache-2.0.
"""

from bastion.taxonomy._atlas import (
    ATLAS_ATTRIBUTION,
    ATLAS_ENV,
    AtlasTable,
    Technique,
    load_atlas,
    table_from_yaml,
)
from bastion.taxonomy._lookup import label, taxonomy_name
from bastion.taxonomy._owasp import OWASP_LLM_2025, owasp_id, owasp_name

__all__ = [
    "ATLAS_ATTRIBUTION",
    "ATLAS_ENV",
    "OWASP_LLM_2025",
    "AtlasTable",
    "Technique",
    "label",
    "load_atlas",
    "owasp_id",
    "owasp_name",
    "table_from_yaml",
    "taxonomy_name",
]
