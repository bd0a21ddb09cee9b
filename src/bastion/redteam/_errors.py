"""Red-team errors, placed in Bastion's exception tree (see :mod:`bastion.errors`).

``TargetError`` is a :class:`~bastion.errors.RuntimeFailure`: the system under test failed
(transport error, HTTP error, unusable answer). ``retryable`` says whether the campaign may
try again (timeouts, 429, 5xx) and ``retry_after`` carries a server's hint in seconds.
``AttackerError`` is the same for the optional attacker / judge model.
"""

from __future__ import annotations

from bastion.errors import RuntimeFailure


class TargetError(RuntimeFailure):
    """The target did not give a usable answer."""

    def __init__(self, message: str, *, retryable: bool = False,
                 retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after


class AttackerError(RuntimeFailure):
    """The attacker or judge model did not give a usable answer."""
