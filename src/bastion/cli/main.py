"""The ``bastion`` command: wiring only; each command group lives in its own module."""

from __future__ import annotations

from importlib import import_module

import typer

app = typer.Typer(
    name="bastion",
    help="Bastion: policy classification, guardrails and red teaming for language models.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

_COMMAND_MODULES = (
    "_accounts", "_audit", "_classify", "_eval", "_gateway", "_keys", "_policy", "_redteam",
    "_scan", "_serve",
)

for _name in _COMMAND_MODULES:
    import_module(f"bastion.cli.{_name}").register(app)


if __name__ == "__main__":  # pragma: no cover
    app()
