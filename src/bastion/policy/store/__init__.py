"""Policy versions in the database: save (linted), history and diff, publish with a reason
(audited), roll back, and a test set that measures a draft against the published version.

The gateway reads :meth:`PolicyStore.heads` to pick up published versions without a restart.
"""

from bastion.policy.store._model import PolicyHead, PolicySummary, PolicyVersion, unified_diff
from bastion.policy.store._store import PolicyStore, content_hash, parse_version
from bastion.policy.store._tables import PolicyHeadRow, PolicyTestsetRow, PolicyVersionRow
from bastion.policy.store._testset import (
    Comparison,
    LabelledRow,
    VersionScores,
    category_scores,
    example_rows,
    parse_rows,
    read_rows,
    run_testset,
    shipped_rows,
)

__all__ = [
    "Comparison",
    "LabelledRow",
    "PolicyHead",
    "PolicyHeadRow",
    "PolicyStore",
    "PolicySummary",
    "PolicyTestsetRow",
    "PolicyVersion",
    "PolicyVersionRow",
    "VersionScores",
    "category_scores",
    "content_hash",
    "example_rows",
    "parse_rows",
    "parse_version",
    "read_rows",
    "run_testset",
    "shipped_rows",
    "unified_diff",
]
