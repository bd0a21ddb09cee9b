"""One registry for classifier tiers: built-ins and third-party plugins load the same way.

Plugins are entry points in the ``bastion.classifiers`` group whose value is a
:class:`~bastion.classify.Classifier` subclass. Bastion's own tiers are registered in its
``pyproject.toml`` exactly as a plugin package would register them.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points
from typing import Any

from bastion.classify._base import Classifier
from bastion.errors import ConfigError

GROUP = "bastion.classifiers"
_extra: dict[str, type[Classifier]] = {}


def register(cls: type[Classifier]) -> type[Classifier]:
    """Register a tier at run time (tests, notebooks); entry points are the normal route."""
    _extra[cls.name] = cls
    return cls


@cache
def _entry_points() -> dict[str, Any]:
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def available() -> list[str]:
    """Names of every registered tier, sorted."""
    return sorted({*_entry_points(), *_extra})


def tier_class(name: str) -> type[Classifier]:
    """The class registered under ``name``."""
    if name in _extra:
        return _extra[name]
    ep = _entry_points().get(name)
    if ep is None:
        raise ConfigError(f"unknown classifier tier {name!r}; available: {available()}")
    cls = ep.load()
    if not (isinstance(cls, type) and issubclass(cls, Classifier)):
        raise ConfigError(f"entry point {name!r} ({ep.value}) is not a Classifier subclass")
    return cls


def create(name: str, **options: Any) -> Classifier:
    """Instantiate a tier by registry name, passing ``options`` to its constructor."""
    cls = tier_class(name)
    try:
        return cls(**options)
    except TypeError as exc:
        raise ConfigError(f"bad options for tier {name!r}: {exc}") from exc
