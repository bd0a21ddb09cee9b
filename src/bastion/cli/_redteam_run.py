"""``bastion redteam run``: settings from flags and a campaign file, then the campaign itself,
with a progress bar and a clean stop on Ctrl-C or SIGTERM (``rerun`` runs through here too)."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Annotated, Any

import anyio
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from bastion.cli._common import EXIT_RUNTIME_FAILURE, err_console, handle_errors
from bastion.cli._redteam_args import (
    AttackerModel,
    AttackerTimeout,
    AttackerUrl,
    AttackerVerify,
    JudgeModel,
    JudgeTimeout,
    JudgeUrl,
    JudgeVerify,
    model_settings,
    named_option,
    named_options,
    split,
    target_options,
)
from bastion.cli._redteam_report import finish, report_formats
from bastion.redteam import (
    FORMATS,
    Attempt,
    Campaign,
    CampaignConfig,
    available,
    load_config,
    plugin_class,
)
from bastion.redteam._config import check_config
from bastion.redteam._options import check_options

EXIT_INTERRUPTED = 130  # as a shell reports a process stopped by Ctrl-C
EXIT_TERMINATED = 143  # as a shell reports a process stopped by SIGTERM
_D = CampaignConfig()  # the defaults that help texts show


@handle_errors
def run_command(
    target: Annotated[str | None, typer.Option("--target", "-t", help=(
        f"Target plugin: {', '.join(available('targets'))} (default {_D.target}); its "
        "options are listed below."))] = None,
    target_option: Annotated[list[str] | None, typer.Option(
        "--target-option", "-T", help="A target option as key=value, the value read as YAML; "
        "repeat for several, e.g. -T base_url=http://127.0.0.1:8100/v1 -T api_key_env=KEY."
    )] = None,
    probes: Annotated[list[str] | None, typer.Option("--probes", "-p", help=(
        f"Probes, comma-separated (default {', '.join(_D.probes)}; see 'bastion "
        "redteam list probes')."))] = None,
    probe_option: Annotated[list[str] | None, named_option("probes", "-P")] = None,
    converters: Annotated[list[str] | None, typer.Option(
        "--converters", "-c", help="Converter stacks, comma-separated, '+' to chain: "
        "'none,base64,rot13+spacing' (default none).")] = None,
    strategies: Annotated[list[str] | None, typer.Option("--strategies", "-s", help=(
        f"Attack strategies, comma-separated (default {','.join(_D.strategies)})."))] = None,
    strategy_option: Annotated[list[str] | None, named_option("strategies", "-S")] = None,
    converter_option: Annotated[list[str] | None, named_option("converters", "-C")] = None,
    scorers: Annotated[list[str] | None, typer.Option("--scorers", help=(
        "Scorers for every case, comma-separated (default: each probe's own)."))] = None,
    concurrency: Annotated[int | None, typer.Option("--concurrency", "-j", help=(
        f"Attempts in flight at once (default {_D.concurrency})."))] = None,
    rate: Annotated[float | None, typer.Option("--rate", help=(
        "Target requests per second (default unlimited)."))] = None,
    retries: Annotated[int | None, typer.Option("--retries", help=(
        f"Retries of timeouts, 429 and 5xx answers (default {_D.retries})."))] = None,
    seed: Annotated[int | None, typer.Option("--seed", help=(
        f"Seed of converters, sampling and retries (default {_D.seed})."))] = None,
    limit: Annotated[int | None, typer.Option("--limit", help=(
        "Keep a seeded sample of at most this many attempts (default all)."))] = None,
    repeats: Annotated[int | None, typer.Option("--repeats", "-n", min=1, help=(
        "Generations per prompt: run every attempt N times, each with its own seed "
        "(best_of_n draws N variants; default 1)."))] = None,
    harm_tier: Annotated[str | None, typer.Option("--harm-tier", help=(
        f"Classifier tier of the harm scorer (default {_D.harm_tier})."))] = None,
    attacker_url: AttackerUrl = None,
    attacker_model: AttackerModel = None,
    attacker_timeout: AttackerTimeout = None,
    attacker_verify: AttackerVerify = None,
    judge_url: JudgeUrl = None,
    judge_model: JudgeModel = None,
    judge_timeout: JudgeTimeout = None,
    judge_verify: JudgeVerify = None,
    config: Annotated[Path | None, typer.Option("--config", help=(
        "YAML/JSON campaign settings; options given here override it."))] = None,
    log: Annotated[Path | None, typer.Option("--log", help=(
        "Resumable JSONL log of every attempt (default none)."))] = None,
    report_dir: Annotated[Path | None, typer.Option("--report-dir", "-o", help=(
        "Write reports to this folder (default: none, print the summary only)."))] = None,
    formats: Annotated[list[str] | None, typer.Option("--format", "-f", help=(
        f"Report formats, comma-separated (default all: {', '.join(FORMATS)})."))] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Run an attack campaign against a target (resumes when --log already holds attempts)."""
    models = model_settings(locals())  # first: a bad value is refused before a file is read
    # The file's target names the options -T sets; read with the model flags that complete it.
    name = target or (load_config(config, flags=models.keys(), **models).target
                      if config is not None else _D.target)
    settings: dict[str, Any] = {
        "target": target, "probes": split(probes), "converters": split(converters),
        "strategies": split(strategies), "scorers": split(scorers),
        "concurrency": concurrency, "rate": rate, "retries": retries, "seed": seed,
        "limit": limit, "repeats": repeats, "harm_tier": harm_tier,
        **models,
        "target_options": target_options(target_option, name) or None,
        "probe_options": named_options(probe_option) or None,
        "strategy_options": named_options(strategy_option, "strategies") or None,
        "converter_options": named_options(converter_option, "converters") or None,
    }
    if target is not None and config is None:
        check_options("target", target, plugin_class("targets", target),
                      settings["target_options"] or {})
    given = {k: v for k, v in settings.items() if v is not None}
    chosen = (load_config(config, flags=given.keys(), **given) if config is not None
              else check_config(given, {"flags": given.keys()}))
    kinds = report_formats(split(formats), report_dir)
    campaign = Campaign(chosen, config_file=str(config) if config is not None else None)
    attempts = execute(campaign, log, quiet or as_json)
    if not finish(attempts, campaign.header(), report_dir, kinds, as_json):
        raise typer.Exit(EXIT_RUNTIME_FAILURE)


def _progress(total: int, quiet: bool) -> tuple[Progress | None, Any]:
    if quiet:
        return None, lambda _attempt: None
    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), console=err_console, transient=False)
    task = progress.add_task("attacking", total=total)
    counts = {"success": 0, "error": 0}

    def advance(attempt: Attempt) -> None:
        counts["success"] += attempt.success
        counts["error"] += attempt.error is not None
        progress.update(task, advance=1, description=f"successes {counts['success']} · "
                                                     f"errors {counts['error']}")
    return progress, advance


class _Terminated(KeyboardInterrupt):
    """SIGTERM (``kill``, a CI job cancelled) during a campaign: stopped as Ctrl-C stops it."""


def _terminate(_signum: int, _frame: object) -> None:
    raise _Terminated


def execute(campaign: Campaign, log: Path | None, quiet: bool) -> list[Attempt]:
    """Run ``campaign`` (logging to ``log``) with a progress bar; on Ctrl-C or SIGTERM, say
    where the finished attempts are and exit as a shell reports that signal."""
    progress, advance = _progress(len(campaign.planned), quiet)
    # Without a handler SIGTERM ended the process with no word of where the finished
    # attempts are (found in a black-box pass, issue 9); a handler only in the main thread.
    main = threading.current_thread() is threading.main_thread()
    before = signal.signal(signal.SIGTERM, _terminate) if main else None
    try:
        if progress is None:
            return anyio.run(lambda: campaign.run(log, advance))
        with progress:
            return anyio.run(lambda: campaign.run(log, advance))
    except KeyboardInterrupt as stop:
        kept = (f"every finished attempt is in {str(log)!r}: run the same command to resume"
                if log is not None else "nothing was kept: give --log to make a run resumable")
        how = "terminated" if isinstance(stop, _Terminated) else "interrupted"
        err_console.print(Text(f"{how}; {kept}", style="yellow"))
        raise typer.Exit(EXIT_TERMINATED if isinstance(stop, _Terminated)
                         else EXIT_INTERRUPTED) from None
    finally:
        if main:
            signal.signal(signal.SIGTERM, signal.SIG_DFL if before is None else before)
