"""``bastion redteam``: run attack campaigns, score responses, write reports, gate CI.

Wiring only: each concern has its module beside this one, and this table adds their
commands to the group in the order ``bastion redteam --help`` lists them.

* ``_redteam_plugins``: ``list`` and ``probes`` (the registry and its options);
* ``_redteam_run``: ``run`` (flags and campaign file to settings, then the campaign);
* ``_redteam_rerun``: ``rerun`` (a log's attempts replayed);
* ``_redteam_report``: ``report``, and the summary and reports ``run`` and ``rerun`` write;
* ``_redteam_gate``: ``gate`` and ``compare`` (limits and baselines);
* ``_redteam_score``: ``score`` (a scorer on a file of responses);
* ``_redteam_args``: option values as typed (``-T key=value``, ``-P probe.key=value``...).
"""

from __future__ import annotations

import typer

from bastion.cli._redteam_gate import compare_command, gate_command
from bastion.cli._redteam_plugins import list_command, probes_command, run_epilog
from bastion.cli._redteam_report import report_command
from bastion.cli._redteam_rerun import rerun_command
from bastion.cli._redteam_run import execute as _execute  # noqa: F401 - tests stop a campaign with it
from bastion.cli._redteam_run import run_command
from bastion.cli._redteam_score import score_command


def register(app: typer.Typer) -> None:
    """Add the ``redteam`` group to the main app."""
    group = typer.Typer(help="Attack campaigns, scoring, reports and the CI gate.",
                        no_args_is_help=True)
    group.command("list")(list_command)
    group.command("probes")(probes_command)
    group.command("run", epilog=run_epilog())(run_command)
    group.command("report")(report_command)
    group.command("gate")(gate_command)
    group.command("compare")(compare_command)
    group.command("rerun")(rerun_command)
    group.command("score")(score_command)
    app.add_typer(group, name="redteam")
