"""A guardrail's block: the statuses that mean one (``blocked_status``), and one read from a
JSON answer (``blocked_path``), for APIs that answer HTTP 200 (or a 4xx) with
``{"blocked": true, ...}`` or ``{"error": {"code": "content_filter"}}`` instead of a status
that ``blocked_status`` could list.

The rule is declarative (a path and optional values), as promptfoo's ``transformResponse``
or a garak REST generator's ``response_json_field`` would be used to read such an answer,
but with no code to run: ``blocked_path="error.code"`` with ``blocked_value="content_filter"``,
or a list for a guardrail with several markers, ``blocked_value=["blocked", "filtered"]``.
Without a value, any value at the path other than null, false, 0 or an empty one is a block.
An answer without the path is not blocked: a normal answer has no such field.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from bastion.errors import ConfigError
from bastion.redteam.targets._template import check_path, json_path, steps
from bastion.redteam.targets._wire import RETRYABLE

#: The JSON values that say "not blocked" at a ``blocked_path`` given without a value.
_EMPTY: tuple[Any, ...] = (None, False, 0, "", [], {})
#: The JSON scalars a ``blocked_value`` may be (YAML reads ``-T blocked_value=true`` as one).
Scalar = str | int | float | bool
_HOW = ("a value (-T blocked_value=content_filter) or a list of them "
        "(-T 'blocked_value=[blocked, filtered]')")


@dataclass(frozen=True)
class BlockRule:
    """Where a JSON answer says a guardrail blocked the prompt, and the value that says so.

    Attributes:
        path: a dotted path into the answer (``blocked``, ``error.code``); "" for no rule.
        values: the values that mean blocked, compared as text (``true`` matches true and
            "true"); empty: any value but null, false, 0 or an empty one.
    """

    path: str = ""
    values: tuple[Scalar, ...] = ()

    def check(self, response_path: str) -> None:
        """Raise a ConfigError for a rule that cannot work: a path this target cannot read,
        a value with no path, or a path that holds every reply (each would read as blocked)."""
        check_path(self.path, "blocked_path")
        if self.values and not self.path:
            shown = self.values[0] if len(self.values) == 1 else list(self.values)
            raise ConfigError(f"HTTP target option 'blocked_value' {shown!r} is set but "
                              "option 'blocked_path' is not: set it to where the answer says "
                              "it was blocked (-T blocked_path=error.code)")
        reply = steps(response_path)
        if (self.path and not self.values and response_path
                and reply[:len(steps(self.path))] == steps(self.path)):
            raise ConfigError(f"HTTP target option 'blocked_path' {self.path!r} holds the "
                              f"reply at 'response_path' {response_path!r}, so every answer "
                              "would read as blocked; point it at the field that says so "
                              "('blocked', 'error.code'), or set 'blocked_value' to the value "
                              "that means blocked")

    def reads(self, data: Any) -> str | None:
        """The reply that stands for the block (``[blocked: error.code is "..."]``) when
        ``data`` says it was blocked, else None."""
        if not self.path:
            return None
        try:
            value = json_path(data, self.path)
        except KeyError:
            return None
        blocked = (value not in _EMPTY if not self.values
                   else _text(value) in {_text(v) for v in self.values})
        return f"[blocked: {self.path} is {json.dumps(value)[:80]}]" if blocked else None


def blocked_values(given: object) -> tuple[Scalar, ...]:
    """The option ``blocked_value`` as a tuple (one value or a list; none: ``()``), or a
    ConfigError for what is not a JSON scalar or a list of them: an empty list, a null in
    the list, a list inside it, an object (a list given to the one-value option matched no
    answer, so every block read as the model's own answer)."""
    if given is None:
        return ()
    values = (given,) if isinstance(given, str | int | float) else given
    if isinstance(values, Sequence) and values and all(
            isinstance(v, str | int | float) for v in values):
        return tuple(values)
    what = "an empty list" if isinstance(values, Sequence) and not values else repr(given)
    raise ConfigError(f"HTTP target option 'blocked_value' takes {_HOW}, not {what}: each "
                      "value is compared with the text, number or true/false at "
                      "'blocked_path'; leave it out to count any value there but null, "
                      "false, 0 or an empty one")


def blocked_statuses(statuses: Iterable[int]) -> frozenset[int]:
    """The option ``blocked_status`` as a set, or a ConfigError for a status that means the
    server failed or is busy: a target down would read as a target refusing (the gate
    passed)."""
    listed = frozenset(statuses)
    failures = sorted(s for s in listed if s in RETRYABLE or s >= 500)
    if failures:
        raise ConfigError(f"HTTP target option 'blocked_status' lists {failures}, which "
                          "mean the server failed or is busy, not that a guardrail "
                          "blocked the prompt: an outage would count as refusals and "
                          "pass the gate; list the 4xx the guardrail answers (often 400, "
                          "403 or 451)")
    return listed


def _text(value: Any) -> str:
    """A JSON value as text to compare: a string as written, anything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value)
