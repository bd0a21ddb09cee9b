"""One registry for every red-team plugin kind: probes, converters, strategies, targets, scorers.

Third-party plugins are entry points in the groups ``bastion.redteam.probes``,
``bastion.redteam.converters``, ``bastion.redteam.strategies``, ``bastion.redteam.targets``
and ``bastion.redteam.scorers``; each value is a subclass of the kind's base class. Bastion's
built-ins are listed once, in :mod:`bastion.redteam._builtin`, in the same ``module:Class``
form, and load through the same code (as ``llm`` loads its default plugins through its own
hooks). :func:`register` adds a class at run time (tests, notebooks). Names are unique per
kind; a built-in name cannot be taken over, a run-time registration shadows the rest.
"""

from __future__ import annotations

from functools import cache
from importlib import import_module
from importlib.metadata import entry_points
from typing import Any, Literal, TypeVar, cast, get_args

from bastion.errors import ConfigError
from bastion.redteam._base import Converter, Probe, Scorer, Strategy, Target
from bastion.redteam._builtin import BUILTIN
from bastion.redteam._options import check_options, check_types, coerce_text

PluginKind = Literal["probes", "converters", "strategies", "targets", "scorers"]
KINDS: tuple[PluginKind, ...] = get_args(PluginKind)
BASES: dict[str, type] = {"probes": Probe, "converters": Converter, "strategies": Strategy,
                          "targets": Target, "scorers": Scorer}
T = TypeVar("T")
_extra: dict[str, dict[str, type]] = {kind: {} for kind in KINDS}


def _one(kind: str) -> str:
    return "strategy" if kind == "strategies" else kind[:-1]


def group(kind: PluginKind) -> str:
    """The entry-point group of a plugin kind."""
    return f"bastion.redteam.{kind}"


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ConfigError(f"unknown plugin kind {kind!r}; kinds: {list(KINDS)}")


def register(kind: PluginKind, cls: type[T]) -> type[T]:
    """Register ``cls`` under its ``name`` at run time; entry points are the normal route."""
    _check_kind(kind)
    if not (isinstance(cls, type) and issubclass(cls, BASES[kind])):
        raise ConfigError(f"{cls!r} is not a {BASES[kind].__name__} subclass")
    _extra[kind][str(getattr(cls, "name"))] = cls  # noqa: B009 - every base declares name
    return cls


def unregister(kind: PluginKind, name: str) -> None:
    """Forget a run-time registration (tests clean up with this)."""
    _extra[kind].pop(name, None)


@cache
def _declared(kind: str) -> dict[str, str]:
    """name -> "module:attr" from entry points, plus built-ins the metadata lacks."""
    found = {ep.name: ep.value for ep in entry_points(group=f"bastion.redteam.{kind}")
             # Entry points into Bastion itself come from the metadata of an older install
             # (built-ins were once declared there too); the table is the truth for them.
             if not ep.value.startswith("bastion.redteam.")}
    return {**found, **BUILTIN[kind]}


def available(kind: PluginKind) -> list[str]:
    """Every registered name of a kind, sorted."""
    _check_kind(kind)
    return sorted({*_declared(kind), *_extra[kind]})


def plugin_class(kind: PluginKind, name: str) -> type[Any]:
    """The class registered under ``name``; raises ConfigError for unknown names."""
    _check_kind(kind)
    if name in _extra[kind]:
        return _extra[kind][name]
    value = _declared(kind).get(name)
    if value is None:
        raise ConfigError(f"unknown {_one(kind)} {name!r}; available: {available(kind)}")
    module, _, attr = value.partition(":")
    try:
        cls = getattr(import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"{_one(kind)} {name!r} ({value}) cannot be loaded: {exc}") from exc
    if not (isinstance(cls, type) and issubclass(cls, BASES[kind])):
        raise ConfigError(f"{_one(kind)} {name!r} ({value}) is not a "
                          f"{BASES[kind].__name__} subclass")
    return cast(type[Any], cls)


def create(kind: PluginKind, name: str, **options: Any) -> Any:
    """Instantiate the plugin ``name`` of ``kind`` with keyword options.

    Raises:
        ConfigError: unknown name, or an option it does not take or needs (named).
    """
    cls = plugin_class(kind, name)
    check_options(_one(kind), name, cls, options)
    options = coerce_text(_one(kind), name, cls, options)
    check_types(_one(kind), name, cls, options)
    try:
        return cls(**options)
    except TypeError as exc:
        raise ConfigError(f"bad options for {_one(kind)} {name!r}: {exc}") from exc
