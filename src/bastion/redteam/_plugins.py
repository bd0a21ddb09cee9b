"""Typed constructors over the registry, with the campaign's shared pieces injected."""

from __future__ import annotations

from typing import Any

from bastion.errors import ConfigError
from bastion.redteam._base import Converter, Probe, Scorer, Strategy, Target
from bastion.redteam._registry import create, plugin_class
from bastion.redteam._types import Case
from bastion.redteam.converters._text import Completer

SINGULAR = {"probes": "probe", "converters": "converter", "strategies": "strategy",
            "targets": "target", "scorers": "scorer"}


def make_probe(name: str, **options: Any) -> Probe:
    """A probe by registry name."""
    probe: Probe = create("probes", name, **options)
    return probe


def make_target(name: str, **options: Any) -> Target:
    """A target by registry name."""
    target: Target = create("targets", name, **options)
    return target


def _with_attacker(kind: str, name: str, attacker: Completer | None,
                   options: dict[str, Any]) -> dict[str, Any]:
    cls = plugin_class(kind, name)  # type: ignore[arg-type]  # kind is a PluginKind literal
    if getattr(cls, "needs_attacker", False):
        if attacker is None:
            raise ConfigError(f"{SINGULAR[kind]} {name!r} needs an attacker model; pass "
                              "--attacker-url (an OpenAI-compatible endpoint)")
        if kind != "strategies":  # strategies reach the attacker through Consult effects
            options = {"judge" if kind == "scorers" else "attacker": attacker, **options}
    return options


def make_converter(name: str, attacker: Completer | None = None, **options: Any) -> Converter:
    """A converter; the attacker is passed to converters that need one."""
    converter: Converter = create("converters", name,
                                  **_with_attacker("converters", name, attacker, options))
    return converter


def make_strategy(name: str, attacker: Completer | None = None, *, check: bool = False,
                  **options: Any) -> Strategy:
    """A strategy; with ``check``, refuses attacker-driven ones when no attacker is configured."""
    if check:
        _with_attacker("strategies", name, attacker, {})
    strategy: Strategy = create("strategies", name, **options)
    return strategy


def make_scorer(name: str, attacker: Completer | None = None, harm_tier: str = "default",
                harm_options: dict[str, Any] | None = None, *, judge: Completer | None = None,
                **options: Any) -> Scorer:
    """A scorer; the harm scorer gets the campaign's tier, the judge scorer the judge model."""
    if name == "harm":
        options = {"tier": harm_tier, "tier_options": harm_options or {}, **options}
    if getattr(plugin_class("scorers", name), "needs_judge", False):
        if judge is None and "judge" not in options:
            raise ConfigError(f"scorer {name!r} needs a judge model; pass --judge-url (an "
                              "OpenAI-compatible endpoint, separate from the attacker)")
        options = {"judge": judge, **options} if judge is not None else options
    scorer: Scorer = create("scorers", name, **_with_attacker("scorers", name, attacker, options))
    return scorer


def all_cases(names: list[str], options: dict[str, dict[str, Any]]) -> list[Case]:
    """The cases of every named probe, in order; duplicate ids are a configuration error, and
    so are options for a probe the campaign does not run (a typo such as ``purpse``) and a
    probe without cases (a cases file path that does not exist), which would otherwise add
    nothing to the campaign without a word."""
    stray = sorted(set(options) - set(names))
    if stray:
        raise ConfigError(f"probe options given for {stray[0]!r}, which this campaign does not "
                          f"run (its probes: {names}); fix the name or add it with -p")
    cases: list[Case] = []
    seen: set[str] = set()
    for name in names:
        probe = make_probe(name, **options.get(name, {}))
        found = probe.cases()
        if not found:
            why = probe.available() or "it wrote none"
            raise ConfigError(f"probe {name!r} has no cases ({why}); fix its options "
                              f"(-P {name}.option=value) or leave it out of --probes")
        for case in found:
            if case.id in seen:
                raise ConfigError(f"two probes produced the case id {case.id!r}")
            seen.add(case.id)
            cases.append(case)
    return cases
