"""``bastion redteam list`` and ``probes``: the registered plugins, their options and cases."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from bastion.cli._common import console, err_console, handle_errors, safe_text
from bastion.cli._redteam_args import named_options
from bastion.errors import ConfigError
from bastion.redteam import KINDS, available, make_probe, plugin_class
from bastion.redteam._options import options_help, plugin_options
from bastion.taxonomy import label


@handle_errors
def list_command(kind: Annotated[str | None, typer.Argument(help=f"One of {KINDS}.")] = None,
                 ) -> None:
    """List registered plugins (probes, converters, strategies, targets, scorers)."""
    table = Table("kind", "name", "description", "options (* required)", caption=(
        "set with: targets -T key=value; probes -P probe.key=value; strategies -S "
        "strategy.key=value; converters -C converter.key=value (or in the campaign file: "
        "strategy_options: {pair: {streams: 5}}, converter_options)" + (
            "" if kind == "targets" else "; target option details: bastion redteam list "
            "targets")))
    for k in [kind] if kind else list(KINDS):
        for name in available(k):  # type: ignore[arg-type]  # checked by the registry
            cls = plugin_class(k, name)  # type: ignore[arg-type]  # checked by the registry
            names = ", ".join(o.name + "*" * o.required for o in plugin_options(cls))
            table.add_row(k, name, safe_text(cls.description, 90), names or "-")
    console.print(table)
    if kind == "targets":
        console.print(Text(options_help("target", _targets()).replace("\b\n", "")))


def _targets() -> dict[str, type[Any]]:
    return {name: plugin_class("targets", name) for name in available("targets")}


def run_epilog() -> str:
    """The target options, shown below ``run --help``."""
    try:
        return options_help("target", _targets())
    except ConfigError as exc:  # a broken third-party plugin must not break --help
        return f"(target options unavailable: {exc})"


@handle_errors
def probes_command(
    names: Annotated[list[str] | None, typer.Argument(
        help="Probe names (default: every probe).")] = None,
    probe_option: Annotated[list[str] | None, typer.Option(
        "--probe-option", "-P", help="A probe option as probe.option=value, e.g. "
        "-P purpose.purpose='support bot of a bank'.")] = None,
) -> None:
    """List the cases of probes with their OWASP and MITRE ATLAS ids and names."""
    table = Table("case", "category", "technique", "owasp", "atlas", "prompt")
    options = named_options(probe_option)
    for name in names or available("probes"):
        probe = make_probe(name, **options.get(name, {}))
        for case in probe.cases():
            table.add_row(safe_text(case.id, 50), safe_text(case.category, 40),
                          safe_text(case.technique, 40),
                          safe_text(", ".join(label(i) for i in case.owasp), 80),
                          safe_text(", ".join(label(i) for i in case.atlas), 80),
                          safe_text(case.prompt, 60))
        if probe.available():
            err_console.print(safe_text(f"{name}: {probe.available()}"), style="yellow")
    console.print(table)
