"""How to fix each front-matter key: the second half of every ``policy lint`` message.

Pydantic says what is wrong ("Input should be a valid dictionary"); these hints say what the
key means and show a line that works, so a message never leaves the author guessing.
"""

from __future__ import annotations

from typing import get_args

from bastion.policy._model import Action, Severity, ValueKind

_CHOICES_ACTION = ", ".join(get_args(Action))
_CHOICES_SEVERITY = ", ".join(get_args(Severity))
_CHOICES_VALUE = ", ".join(get_args(ValueKind))

# Keys of the front matter (list indexes written as '*'), each with a clause that follows the
# key's name in a message: "'threshold' is the score ...".
HINTS: dict[str, str] = {
    "id": "is the policy id: lower-case letters, digits, '.', '_' or '-', e.g. 'id: shop'",
    "version": "is the policy's version as text, e.g. 'version: \"1.0\"'",
    "title": "is a human-readable title, e.g. 'title: Shop assistant'",
    "description": "is one sentence of text saying what the policy covers",
    "include": "lists built-in policy ids or policy files, e.g. 'include: [violence]'",
    "categories": "lists the categories, each with code, name, action and threshold",
    "categories.*": "is a mapping with code, name, action and threshold, e.g. "
                    "'- {code: VIO, name: Violence, action: block, threshold: 0.5}'",
    "categories.*.code": "is a short upper-case code that the category's rule ids start "
                         "with, e.g. 'code: VIO' for rules VIO-1 and VIO-2",
    "categories.*.name": "is the category's name, e.g. 'name: Violence and threats'",
    "categories.*.action": f"says what a violation does: one of {_CHOICES_ACTION}, e.g. "
                           "'action: block'",
    "categories.*.threshold": "is the score from which the category is violated, a number "
                              "between 0 and 1, e.g. 'threshold: 0.5'",
    "categories.*.severity": f"is one of {_CHOICES_SEVERITY}, e.g. 'severity: high'",
    "categories.*.head": "names a shipped embedded head, e.g. 'head: violence'; leave it out "
                         "for a few-shot category",
    "categories.*.keywords": "maps each rule id to the phrases that trigger it, e.g. "
                             "'keywords: {VIO-1: [\"i will kill you\", \"watch your back\"]}'",
    "categories.*.patterns": "maps each rule id to RE2 patterns that trigger it, e.g. "
                             "'patterns: {VIO-2: [\"\\\\bhow to kill\\\\b\"]}'",
    "categories.*.values": f"maps each rule id to kinds of value its hits must be, among "
                           f"{_CHOICES_VALUE}, e.g. 'values: {{PII-2: [CARD, IBAN, SSN]}}'",
    "categories.*.unless": "lists RE2 patterns of exceptions, e.g. "
                           "'unless: [\"\\\\bin the (?:film|novel)\\\\b\"]'",
    "escalate": "is the uncertainty band sent to the deeper tier, e.g. "
                "'escalate: {low: 0.3, high: 0.7}'",
    "escalate.low": "is a number between 0 and 1, below 'high'",
    "escalate.high": "is a number between 0 and 1, above 'low'",
}


def hint_for(loc: tuple[int | str, ...]) -> str | None:
    """How to fix the innermost known key of a pydantic error location, or ``None``.

    ``('categories', 1, 'keywords', 'VIO-1')`` gives "'keywords' maps each rule id ...".
    """
    parts = ["*" if isinstance(p, int) else str(p) for p in loc]
    while parts:
        hint = HINTS.get(".".join(parts))
        if hint is not None:
            label = f"{parts[-1]!r}" if parts[-1] != "*" else f"each entry of {parts[-2]!r}"
            return f"{label} {hint}"
        parts.pop()
    return None
