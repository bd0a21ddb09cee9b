"""The ``bastion`` command: wiring only; each command group lives in its own module.

A command's module is imported only when that command runs (or shows its help), so
``bastion --help`` and quick commands do not pay for the gateway's database stack or the red
team's plugins. The table below gives each command's module and one-line help; a test checks
it against what the modules register.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperGroup

if TYPE_CHECKING:  # typer 0.29 ships its own copy of click; these are its types
    from typer._click import Command, Context, HelpFormatter, Parameter

# command name -> (module under bastion.cli, short help shown by ``bastion --help``)
COMMANDS: dict[str, tuple[str, str]] = {
    "classify": ("_classify", "Classify text against a policy and print the verdict."),
    "demo": ("_classify",
             "Classify the sample texts shipped with Bastion and print a table of verdicts."),
    "eval": ("_eval", "Measure a classifier tier on a labelled file."),
    "scan": ("_scan", "Classify every row of a file and write one verdict row per input row."),
    "serve": ("_serve", "Serve Bastion over HTTP: /v1/classify, /v1/moderations "
                        "(OpenAI-compatible), /v1/policies."),
    "policy": ("_policy", "List, lint and test policies; save, diff and publish versions."),
    "redteam": ("_redteam", "Attack campaigns, scoring, reports and the CI gate."),
    "gateway": ("_gateway", "The guardrail gateway (OpenAI-compatible proxy)."),
    "accounts": ("_accounts", "Manage accounts."),
    "keys": ("_keys", "Manage API keys."),
    "audit": ("_audit", "Inspect and verify the audit log."),
    "monitor": ("_monitor", "Detectors, alerts and incidents."),
    "findings": ("_findings", "Findings: submit, import, triage, dedupe, verify, metrics."),
    "web": ("_web", "The web app: login, red-teaming network, findings, dashboards."),
    "users": ("_users", "Manage web app users."),
    "dev": ("_dev", "Development helpers: a scripted upstream model for demos and tests."),
    "copilot": ("_copilot", "The defender's co-pilot: triage, confirmed actions, threat intel, "
                            "code scanning."),
}


def load_command(name: str) -> Command:
    """Import the module behind ``name`` and build its click command."""
    module = import_module(f"bastion.cli.{COMMANDS[name][0]}")
    holder = typer.Typer(rich_markup_mode=None, pretty_exceptions_enable=False)
    module.register(holder)
    command = typer.main.get_group(holder).commands[name]
    _name_values(command)
    return command


def _name_values(command: Command) -> None:
    """Help that reads ``--port INTEGER`` and ``LOG``, not ``--port <int>`` and ``{log}``."""
    for sub in getattr(command, "commands", {}).values():
        _name_values(sub)
    for param in command.params:
        if param.param_type_name == "argument":
            param.metavar = param.metavar or (param.name or "value").upper()
            # Typer prints 'LOG <path>' in the argument list; the help beside it says more.
            typer_param: Any = param
            typer_param.display_type_rich = lambda ctx: None
        elif param.metavar is None and not getattr(param, "is_flag", False):
            param.metavar = _value_name(param)


def _value_name(param: Parameter) -> str:
    descriptor = getattr(param, "type_descriptor", None)
    if descriptor is not None and descriptor.is_choice and descriptor.choices:
        return "[" + "|".join(str(c) for c in descriptor.choices) + "]"
    bare = param.bare_type() if hasattr(param, "bare_type") else "text"
    inner = bare.removeprefix("list[").removesuffix("]").lower()
    return _METAVARS.get(inner, inner.upper())


_METAVARS = {"str": "TEXT", "int": "INTEGER", "float": "NUMBER", "path": "PATH", "bool": "BOOL"}


class LazyGroup(TyperGroup):
    """The top-level group: lists commands from ``COMMANDS``, imports one when it is used."""

    def list_commands(self, ctx: Context) -> list[str]:
        """Every command, in the table's order."""
        return list(COMMANDS)

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        """The named command, imported now; ``None`` for an unknown name (click's error)."""
        return load_command(cmd_name) if cmd_name in COMMANDS else None

    def format_commands(self, ctx: Context, formatter: HelpFormatter) -> None:
        """The command list from the table, so that ``--help`` imports no command module."""
        with formatter.section("Commands"):
            formatter.write_dl([(name, short) for name, (_, short) in COMMANDS.items()])


app = typer.Typer(
    name="bastion",
    cls=LazyGroup,
    help="Bastion: policy classification, guardrails and red teaming for language models.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    add_completion=False,  # completion would import every command module on each <TAB>
)


@app.callback()
def _main() -> None:
    """Bastion: policy classification, guardrails and red teaming for language models."""


if __name__ == "__main__":  # pragma: no cover
    app()
