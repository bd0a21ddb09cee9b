"""The finding lifecycle: one transition table, checked on every change of state.

::

    new -> triaging -> needs-info | duplicate | rejected | accepted
    needs-info -> triaging            (the reporter answered)
    accepted -> fixing -> fixed -> verified -> closed
    fixed | verified | closed -> regressed   (a regression probe succeeded again)
    regressed -> fixing
    duplicate | rejected -> triaging  (reopened by a triager)

Every other move is refused with :class:`~bastion.errors.InputError` naming the moves that
are allowed from the current state.
"""

from __future__ import annotations

from typing import Literal, get_args

from bastion.errors import InputError

State = Literal["new", "triaging", "needs-info", "duplicate", "rejected", "accepted", "fixing",
                "fixed", "verified", "closed", "regressed"]
STATES: tuple[State, ...] = get_args(State)

TRANSITIONS: dict[State, tuple[State, ...]] = {
    "new": ("triaging",),
    "triaging": ("needs-info", "duplicate", "rejected", "accepted"),
    "needs-info": ("triaging",),
    "duplicate": ("triaging",),
    "rejected": ("triaging",),
    "accepted": ("fixing",),
    "fixing": ("fixed",),
    "fixed": ("verified", "regressed"),
    "verified": ("closed", "regressed"),
    "closed": ("regressed",),
    "regressed": ("fixing",),
}

# States whose findings the scheduled regression run re-checks.
REGRESSION_STATES: tuple[State, ...] = ("fixed", "verified", "closed")
# States in which a finding still waits for someone (SLA clocks run).
OPEN_STATES: tuple[State, ...] = ("new", "triaging", "needs-info", "accepted", "fixing",
                                  "regressed")


def as_state(value: str) -> State:
    """``value`` as a :data:`State`.

    Raises:
        InputError: not a state name.
    """
    for state in STATES:
        if state == value:
            return state
    raise InputError(f"unknown finding state {value!r}; use one of {', '.join(STATES)}")


def check_transition(current: str, wanted: str) -> State:
    """The state to move to, when ``current -> wanted`` is in the table.

    Raises:
        InputError: an unknown state, or a move the lifecycle does not allow.
    """
    source, target = as_state(current), as_state(wanted)
    allowed = TRANSITIONS[source]
    if target not in allowed:
        raise InputError(f"a finding in state {source!r} cannot move to {target!r}; allowed "
                         f"from {source!r}: {', '.join(allowed)}")
    return target
