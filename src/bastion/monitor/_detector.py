"""The detector contract and its registry.

A detector watches the event stream and raises :class:`~bastion.monitor.Alert` objects. Built-in
detectors register exactly as a plugin does: :func:`register_detector` at import time, or an
entry point in the ``bastion.detectors`` group whose value is a :class:`Detector` subclass.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib.metadata import entry_points
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from bastion.errors import ConfigError
from bastion.monitor._alert import Alert
from bastion.monitor._event import MonitorEvent

GROUP = "bastion.detectors"


@dataclass(frozen=True)
class StateEntry:
    """What a detector learned about one dimension value (an account, a route...).

    Attributes:
        at: stream time of the newest event that changed it (stale entries are evicted by it).
        data: the state as a JSON object, read back by :meth:`Detector.load_state`.
    """

    at: float
    data: dict[str, Any]


class DetectorSettings(BaseModel):
    """Base of every detector's settings: typed, unknown keys rejected, frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Detector(ABC):
    """Watches events, raises alerts.

    Lifetime: one instance per stream (the service's, or one replay); it keeps state (baselines,
    windows) for that stream and is never shared between streams. Concurrency: not
    thread-safe; the caller feeds it from one thread. Time is the events' ``at``, never the
    wall clock, so a replay behaves as the live stream did. Failure: ``observe`` must not raise
    on any well-formed event; the caller logs and drops a detector that does.

    Persistence: a detector whose state should outlive the process (baselines, long windows)
    overrides :meth:`dump_state` and :meth:`load_state`; the store keeps one row per key and
    evicts keys whose ``at`` is old, so ``load_state`` may get a subset of what was dumped.

    Subclasses set ``name`` (the registry key) and ``Settings`` (a :class:`DetectorSettings`
    subclass whose defaults are the tuned values).
    """

    name: ClassVar[str]
    Settings: ClassVar[type[DetectorSettings]] = DetectorSettings

    def __init__(self, settings: DetectorSettings | None = None) -> None:
        self.settings = settings if settings is not None else self.Settings()

    @abstractmethod
    def observe(self, events: Sequence[MonitorEvent]) -> list[Alert]:
        """Take the next events (time order) and return the alerts they raise."""

    def dump_state(self, since: float) -> dict[str, StateEntry]:
        """The state of every key changed by an event at ``since`` or later, by key.

        The default keeps nothing: a restarted process starts this detector cold.
        """
        del since
        return {}

    def load_state(self, state: Mapping[str, Mapping[str, Any]]) -> None:
        """Resume from ``data`` that :meth:`dump_state` returned, by key (called once, before
        the first :meth:`observe`, and only with state dumped under the same settings)."""
        del state


_extra: dict[str, type[Detector]] = {}


def register_detector(cls: type[Detector]) -> type[Detector]:
    """Register a detector class under ``cls.name`` (usable as a decorator)."""
    _extra[cls.name] = cls
    return cls


@cache
def _entry_points() -> dict[str, Any]:
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def detector_names() -> list[str]:
    """Every registered detector, sorted."""
    _builtins()
    return sorted({*_entry_points(), *_extra})


def detector_class(name: str) -> type[Detector]:
    """The class registered as ``name``.

    Raises:
        ConfigError: no detector has that name.
    """
    _builtins()
    if name in _extra:
        return _extra[name]
    found = _entry_points().get(name)
    if found is None:
        raise ConfigError(f"unknown detector {name!r}; registered: {detector_names()}")
    cls = found.load()
    if not (isinstance(cls, type) and issubclass(cls, Detector)):
        raise ConfigError(f"entry point {name!r} in {GROUP!r} is not a Detector subclass")
    return cls


def build_detectors(settings: Mapping[str, Mapping[str, Any] | None] | None = None,
                    **shared: Any) -> list[Detector]:
    """One instance of every registered detector, with its settings overridden by
    ``settings[name]``; ``settings[name] = None`` switches a detector off.

    ``shared`` keyword arguments go to every detector whose constructor takes them (the
    cluster detector takes ``embed``).

    Raises:
        ConfigError: an unknown detector name or a bad setting (named).
    """
    settings = dict(settings or {})
    unknown = sorted(set(settings) - set(detector_names()))
    if unknown:
        raise ConfigError(f"settings name unknown detector(s) {unknown}; registered: "
                          f"{detector_names()}")
    out = []
    for name in detector_names():
        if name in settings and settings[name] is None:
            continue
        cls = detector_class(name)
        try:
            options = cls.Settings(**(settings.get(name) or {}))
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
                                 for e in exc.errors())
            raise ConfigError(f"detector {name!r} settings are invalid: {problems}") from exc
        extra = {k: v for k, v in shared.items() if k in getattr(cls, "accepts", ())}
        out.append(cls(options, **extra))
    return out


def _builtins() -> None:
    # Importing the built-ins registers them (as a plugin's import would).
    import bastion.monitor._detectors  # noqa: F401, PLC0415 - import for its registrations
