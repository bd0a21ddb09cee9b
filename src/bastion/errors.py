"""Bastion's exception tree.

Every error Bastion raises on purpose derives from :class:`BastionError`. The tree separates
the caller's mistakes (fix your input and try again) from runtime failures (something we
depend on broke; retrying or reconfiguring may help)::

    BastionError
    ├── UserError                 the caller's mistake; message says what, why, how to fix
    │   ├── PolicyError           a policy file that does not load or lint (carries file:line)
    │   │   └── PolicyLintError   a policy text refused for its lint errors (carries them all)
    │   ├── ConfigError           bad settings: unknown tier, bad option, missing endpoint
    │   └── InputError            bad input data: unreadable file, missing field, bad JSON
    │       └── NotFoundError     the thing named (a finding, an incident, a user) does not exist
    └── RuntimeFailure            something we depend on failed at run time
        ├── BackendError          a classifier backend returned garbage or crashed
        │   └── BackendTimeout    a backend did not answer in time

Classifiers never let a RuntimeFailure escape from ``classify``: they turn it into a verdict
of kind ``error`` (failure is never "safe"). UserErrors do escape: they are bugs in the call.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only a type: the policy package imports this module, not the reverse
    from bastion.policy import LintIssue

__all__ = [
    "BackendError",
    "BackendTimeout",
    "BastionError",
    "ConfigError",
    "InputError",
    "NotFoundError",
    "PolicyError",
    "PolicyLintError",
    "RuntimeFailure",
    "UserError",
]


class BastionError(Exception):
    """Base class of every error Bastion raises on purpose."""


class UserError(BastionError):
    """The caller's mistake: bad policy, bad config or bad input."""


class PolicyError(UserError):
    """A policy that cannot be loaded.

    Attributes:
        source: the file (or ``<string>``) the policy came from.
        line: 1-based line of the problem, or ``None`` when it concerns the whole file.
    """

    def __init__(self, message: str, *, source: str = "<string>", line: int | None = None):
        self.source = source
        self.line = line
        self.reason = message
        where = f"{source}:{line}" if line is not None else source
        super().__init__(f"policy {where}: {message}")


class PolicyLintError(PolicyError):
    """A policy text refused because the linter found errors in it.

    Attributes:
        issues: every issue the linter found, errors first (warnings too, so an editor can
            show them all beside the text).
    """

    def __init__(self, issues: Sequence[LintIssue], *, source: str = "<string>") -> None:
        self.issues = tuple(issues)
        errors = [i for i in self.issues if i.severity == "error"]
        first = errors[0] if errors else None
        more = f" ({len(errors) - 1} more errors)" if len(errors) > 1 else ""
        super().__init__((first.message if first else "the policy has lint errors") + more,
                         source=source, line=first.line if first else None)


class ConfigError(UserError):
    """Bad settings: an unknown tier, an invalid option, a missing endpoint."""


class InputError(UserError):
    """Input data that cannot be read: a bad file, a missing field, broken JSON."""


class NotFoundError(InputError):
    """The thing a caller named does not exist: an unknown finding, incident or user.

    The message names it and says where to find the ones that do exist; the web app answers
    it with a 404 that shows the message.
    """


class RuntimeFailure(BastionError):
    """Something Bastion depends on failed at run time."""


class BackendError(RuntimeFailure):
    """A classifier backend crashed or returned an answer that cannot be used."""


class BackendTimeout(BackendError):
    """A classifier backend did not answer within its time limit."""
