"""Policies: Markdown documents with YAML front matter, loaded, linted and merged."""

from bastion.policy._loader import (
    MAX_POLICY_BYTES,
    builtin_path,
    builtin_policies,
    builtin_testset,
    lint_policy,
    lint_text,
    load_policy,
    parse_policy,
)
from bastion.policy._model import (
    ACTION_RANK,
    SEVERITY_WEIGHT,
    Action,
    Category,
    Escalate,
    Example,
    Policy,
    PolicyRef,
    Rule,
    Severity,
)
from bastion.policy._parse import LintIssue

__all__ = [
    "ACTION_RANK",
    "MAX_POLICY_BYTES",
    "SEVERITY_WEIGHT",
    "Action",
    "Category",
    "Escalate",
    "Example",
    "LintIssue",
    "Policy",
    "PolicyRef",
    "Rule",
    "Severity",
    "builtin_path",
    "builtin_policies",
    "builtin_testset",
    "lint_policy",
    "lint_text",
    "load_policy",
    "parse_policy",
]
