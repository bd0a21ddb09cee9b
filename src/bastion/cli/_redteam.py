"""``bastion redteam``: run attack campaigns, score responses, write reports, gate CI."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Annotated, Any

import anyio
import typer
import yaml
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from bastion.cli._common import (
    EXIT_RUNTIME_FAILURE,
    console,
    err_console,
    handle_errors,
    print_json,
    safe_text,
)
from bastion.errors import ConfigError, InputError
from bastion.redteam import (
    FORMATS,
    KINDS,
    Attempt,
    Campaign,
    CampaignConfig,
    available,
    check,
    compare,
    load_config,
    load_refusal_model,
    load_thresholds,
    make_config,
    make_probe,
    plugin_class,
    read_log,
    replay_plan,
    summarise,
    write_reports,
)
from bastion.redteam._config import REDACTED, redacted_options
from bastion.redteam._options import check_options, options_help, plugin_options, text_options
from bastion.redteam._score_file import measure, read_rows, score_rows
from bastion.redteam._summary import undecided
from bastion.redteam.reports import target_line
from bastion.taxonomy import label

redteam_app = typer.Typer(help="Attack campaigns, scoring, reports and the CI gate.",
                          no_args_is_help=True)
EXIT_GATE_FAILED = 1
EXIT_INTERRUPTED = 130  # as a shell reports a process stopped by Ctrl-C
EXIT_TERMINATED = 143  # as a shell reports a process stopped by SIGTERM
_D = CampaignConfig()  # the defaults that help texts show


def _split(values: list[str] | None) -> list[str] | None:
    if not values:
        return None
    return [item.strip() for value in values for item in value.split(",") if item.strip()]


def _options(pairs: list[str] | None, target: str) -> dict[str, Any]:
    """``-T key=value`` pairs; values read as YAML, except that an option taking text keeps
    what was typed when YAML would make it something else (a JSON body template such as
    ``{"q": "{prompt}"}`` is a mapping to YAML)."""
    text = text_options(plugin_class("targets", target)) if pairs else set()
    out: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"target option {pair!r} must look like key=value")
        out[key.strip()] = _value(value, f"target option {key.strip()!r}",
                                  as_text=key.strip() in text)
    return out


def _value(value: str, where: str, *, as_text: bool = False) -> Any:
    """A ``-T`` / ``-P`` value read as YAML; an option taking text keeps what was typed
    (``You are ShopBot: answer...`` is a mapping to YAML, or no YAML at all)."""
    try:
        parsed = yaml.safe_load(value) if value else ""
    except yaml.YAMLError as exc:
        if as_text:
            return value
        raise ConfigError(f"{where}: {value!r} is not YAML ({getattr(exc, 'problem', exc)}); "
                          "write a YAML value such as 0.5, [a, b] or {k: v}, and quote text"
                          ) from exc
    return value if as_text and not isinstance(parsed, str) else parsed


#: Per kind of plugin set by name on the command line: the singular, and an example.
_NAMED_OPTIONS = {"probes": ("probe", "purpose.purpose='support bot of a bank'"),
                  "strategies": ("strategy", "pair.streams=5"),
                  "converters": ("converter", "caesar.shift=5")}


def _named_option(kind: str, short: str) -> Any:
    """The ``--<plugin>-option`` flag of ``run`` for one kind of plugin."""
    one, example = _NAMED_OPTIONS[kind]
    return typer.Option(f"--{one}-option", short, help=(
        f"A {one} option as {one}.option=value (YAML value), e.g. {short} {example} (see "
        f"'bastion redteam list {kind}')."))


def _named_options(pairs: list[str] | None, kind: str = "probes") -> dict[str, dict[str, Any]]:
    """``plugin.option=value`` pairs (``-P``, ``-S``, ``-C``) by plugin name."""
    one, example = _NAMED_OPTIONS[kind]
    out: dict[str, dict[str, Any]] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        name, dot, option = key.strip().partition(".")
        if not sep or not dot or not name or not option:
            raise ConfigError(f"{one} option {pair!r} must look like {one}.option=value "
                              f"(e.g. {example})")
        out.setdefault(name, {})[option] = _value(
            value, f"{one} option {key.strip()!r}",
            as_text=option in text_options(plugin_class(kind, name)))  # type: ignore[arg-type]
    return out


@redteam_app.command("list")
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


def _run_epilog() -> str:
    try:
        return options_help("target", _targets())
    except ConfigError as exc:  # a broken third-party plugin must not break --help
        return f"(target options unavailable: {exc})"


@redteam_app.command("probes")
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
    options = _named_options(probe_option)
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


def _execute(campaign: Campaign, log: Path | None, quiet: bool) -> list[Attempt]:
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


def _formats(formats: list[str] | None, report_dir: Path | None) -> list[str]:
    """The report formats to write, checked before any attack is sent."""
    chosen = list(formats or FORMATS)
    bad = set(chosen) - set(FORMATS)
    if bad:
        raise ConfigError(f"unknown report formats {sorted(bad)}; choose from {FORMATS}")
    if formats and report_dir is None:
        raise ConfigError("--format chooses report formats, but no report is written without "
                          "--report-dir (-o DIR)")
    _report_dir(report_dir)
    return chosen


def _report_dir(report_dir: Path | None) -> None:
    """Refuse a report folder that is a file before any attack is sent (the reports were
    lost, with a traceback, after the campaign had run)."""
    if report_dir is not None and report_dir.exists() and not report_dir.is_dir():
        raise ConfigError(f"--report-dir {str(report_dir)!r} is a file; name a folder (it is "
                          "made when missing)")


def _finish(attempts: list[Attempt], header: dict[str, Any], report_dir: Path | None,
            formats: list[str], as_json: bool) -> bool:
    """Write the reports and print the summary; whether any attempt was judged (an attempt
    that errored, or could not be judged, proves nothing: ``run`` and ``rerun`` then exit
    with EXIT_RUNTIME_FAILURE, so a script that checks only the status does not read a
    campaign against a target that was down as a pass)."""
    if report_dir is not None:
        for path in write_reports(attempts, header, report_dir, formats):  # type: ignore[arg-type]
            err_console.print(Text(f"wrote {path}"))
    summary = summarise(attempts)
    failed = [a for a in attempts if a.error is not None]
    unjudged = [a for a in attempts if a.error is None and undecided(a)]
    judged = len(failed) + len(unjudged) < len(attempts)
    if as_json:
        print_json({"overall": summary.overall.to_dict(),
                    "by_category": [r.to_dict() for r in summary.by_category]})
        return judged
    table = Table("category", "n", "successes", "ASR", "95% CI", title="attack success rate")
    for r in [*summary.by_category, summary.overall]:
        table.add_row(safe_text(r.group, 40), str(r.n), str(r.successes), f"{r.asr:.1%}",
                      f"{r.low:.1%} - {r.high:.1%}")
    console.print(table)
    if failed:
        err_console.print(safe_text(
            f"{len(failed)} of {len(attempts)} attempts errored (first: {failed[0].error}); "
            "they prove nothing and fail the gate: fix what failed (the error names the "
            "target, or the attacker or judge model) and run again (with the same --log, "
            "only they are tried again)", 600), style="yellow")
    if unjudged:
        err_console.print(safe_text(
            f"{len(unjudged)} of {len(attempts)} attempts could not be judged ("
            f"{unjudged[0].reason}); they count as errors and fail the gate", 600),
            style="yellow")
    answered = [a for a in attempts if a.error is None]
    if answered and not any(a.last_response.strip() for a in answered):
        err_console.print(
            f"every reply was empty ({len(answered)} attempts): they read as refusals, so "
            "the ASR says nothing if the target answers elsewhere; check the target (for "
            "the http target, -T response_path)", style="yellow")
    if attempts and not judged:
        err_console.print("no attempt was judged: the run measured nothing (exit status "
                          f"{EXIT_RUNTIME_FAILURE})", style="red")
    return judged


@redteam_app.command("run", epilog=_run_epilog())
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
    probe_option: Annotated[list[str] | None, _named_option("probes", "-P")] = None,
    converters: Annotated[list[str] | None, typer.Option(
        "--converters", "-c", help="Converter stacks, comma-separated, '+' to chain: "
        "'none,base64,rot13+spacing' (default none).")] = None,
    strategies: Annotated[list[str] | None, typer.Option("--strategies", "-s", help=(
        f"Attack strategies, comma-separated (default {','.join(_D.strategies)})."))] = None,
    strategy_option: Annotated[list[str] | None, _named_option("strategies", "-S")] = None,
    converter_option: Annotated[list[str] | None, _named_option("converters", "-C")] = None,
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
    attacker_url: Annotated[str | None, typer.Option("--attacker-url", help=(
        "OpenAI-compatible attacker model for pair, tap, crescendo_llm and the paraphrase "
        "and translate converters (default none)."))] = None,
    attacker_model: Annotated[str | None, typer.Option("--attacker-model", help=(
        f"Model name of the attacker (default {_D.attacker_model})."))] = None,
    judge_url: Annotated[str | None, typer.Option("--judge-url", help=(
        "OpenAI-compatible judge model for the 'judge' scorer, separate from the attacker "
        "(default none)."))] = None,
    judge_model: Annotated[str | None, typer.Option("--judge-model", help=(
        f"Model name of the judge (default {_D.judge_model})."))] = None,
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
    name = target or (load_config(config).target if config is not None else _D.target)
    settings: dict[str, Any] = {
        "target": target, "probes": _split(probes), "converters": _split(converters),
        "strategies": _split(strategies), "scorers": _split(scorers),
        "concurrency": concurrency, "rate": rate, "retries": retries, "seed": seed,
        "limit": limit, "repeats": repeats, "harm_tier": harm_tier,
        "attacker_url": attacker_url, "attacker_model": attacker_model,
        "judge_url": judge_url, "judge_model": judge_model,
        "target_options": _options(target_option, name) or None,
        "probe_options": _named_options(probe_option) or None,
        "strategy_options": _named_options(strategy_option, "strategies") or None,
        "converter_options": _named_options(converter_option, "converters") or None,
    }
    if target is not None and config is None:
        check_options("target", target, plugin_class("targets", target),
                      settings["target_options"] or {})
    chosen = (load_config(config, **settings) if config is not None
              else make_config(**{k: v for k, v in settings.items() if v is not None}))
    kinds = _formats(_split(formats), report_dir)
    campaign = Campaign(chosen, config_file=str(config) if config is not None else None)
    attempts = _execute(campaign, log, quiet or as_json)
    if not _finish(attempts, campaign.header(), report_dir, kinds, as_json):
        raise typer.Exit(EXIT_RUNTIME_FAILURE)


def _load(log: Path) -> tuple[dict[str, Any], list[Attempt]]:
    header, attempts = read_log(log)
    if not header:
        raise InputError(f"{str(log)!r} is not a campaign log (no header line)")
    return header, attempts


@redteam_app.command("report")
@handle_errors
def report_command(
    log: Annotated[Path, typer.Argument(help="Campaign log (JSONL).")],
    report_dir: Annotated[Path, typer.Option("--report-dir", "-o", help="Folder to write.")
                          ] = Path("redteam-report"),
    formats: Annotated[list[str] | None, typer.Option("--format", "-f", help=(
        f"Report formats, comma-separated (default all: {', '.join(FORMATS)})."))] = None,
) -> None:
    """Write reports (json, md, html, junit, sarif) from a campaign log."""
    kinds = _formats(_split(formats), report_dir)
    header, attempts = _load(log)
    _finish(attempts, header, report_dir, kinds, as_json=False)


@redteam_app.command("gate")
@handle_errors
def gate_command(
    log: Annotated[Path, typer.Argument(help="Campaign log (JSONL).")],
    max_asr: Annotated[float | None, typer.Option("--max-asr", min=0.0, max=1.0, help=(
        "Highest overall attack success rate allowed, 0 to 1, e.g. 0.05."))] = None,
    thresholds: Annotated[Path | None, typer.Option("--thresholds", help=(
        "YAML file of limits: overall, max_error_rate, min_judged, and per category, owasp, "
        "atlas, probe, converter or strategy.")) ] = None,
    max_error_rate: Annotated[float | None, typer.Option(
        "--max-error-rate", min=0.0, max=1.0, help=(
            "Most attempts (as a share) that may error or go unjudged (default 0, or the "
            "thresholds file's max_error_rate)."))] = None,
    min_judged: Annotated[int | None, typer.Option("--min-judged", min=0, help=(
        "Fewest judged attempts for the gate to pass (default 1, or the thresholds file's "
        "min_judged)."))] = None,
    baseline: Annotated[Path | None, typer.Option("--baseline", help=(
        "A past run's log: fail on successes it did not have (new ones); still-open ones "
        "do not fail the gate."))] = None,
) -> None:
    """Exit 1 when attack success, errors or missing evidence exceed the limits (fail closed)."""
    if max_asr is None and thresholds is None and baseline is None:
        raise ConfigError("give --max-asr, --thresholds or --baseline")
    header, attempts = _load(log)
    new = _new_successes(header, attempts, baseline)
    limits: dict[str, object] = load_thresholds(thresholds) if thresholds else {}
    if max_asr is not None:
        limits["overall"] = max_asr
    if max_error_rate is not None:
        limits["max_error_rate"] = max_error_rate
    if min_judged is not None:
        limits["min_judged"] = min_judged
    planned = header.get("attempts")
    breaches = check(summarise(attempts), limits, attempts,
                     planned if isinstance(planned, int) else None)
    for breach in breaches:
        err_console.print(safe_text(f"FAIL {breach.render()}", None), style="bold red")
    if breaches or new:
        raise typer.Exit(EXIT_GATE_FAILED)
    console.print(Text(f"gate passed: {len(attempts)} attempts within limits", style="green"))


def _against(header: dict[str, Any], baseline: Path) -> list[Attempt]:
    """The baseline's attempts, saying when it attacked another target: comparing two models
    is a use, but a baseline picked by mistake makes every success look still open or new."""
    before, attempts = _load(baseline)
    now, then = target_line(header), target_line(before)
    if now != then:
        err_console.print(safe_text(f"note: the baseline attacked another target ({then}; this "
                                    f"run: {now})", 400), style="yellow")
    return attempts


def _new_successes(header: dict[str, Any], attempts: list[Attempt],
                   baseline: Path | None) -> list[Attempt]:
    if baseline is None:
        return []
    comparison = compare(attempts, _against(header, baseline))
    for attempt in comparison.new:
        err_console.print(safe_text(f"NEW {attempt.case.id} ({attempt.strategy}, "
                                    f"{attempt.converter_label}): {attempt.reason}", 200),
                          style="bold red")
    err_console.print(Text(f"baseline: {len(comparison.new)} new, "
                           f"{len(comparison.still_open)} still open, "
                           f"{len(comparison.fixed)} fixed, "
                           f"{len(comparison.unverified)} unverified"))
    return list(comparison.new)


@redteam_app.command("compare")
@handle_errors
def compare_command(
    log: Annotated[Path, typer.Argument(help="Campaign log (JSONL).")],
    baseline: Annotated[Path, typer.Argument(help="The baseline run's log.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Successes that are new, fixed, still open or unverified against a baseline run."""
    header, attempts = _load(log)
    comparison = compare(attempts, _against(header, baseline))
    if as_json:
        print_json(comparison.to_dict())
        return
    table = Table("status", "case", "strategy", "converters", title="against the baseline")
    for status in ("new", "still_open", "fixed", "unverified"):
        for attempt in getattr(comparison, status):
            table.add_row(status, safe_text(attempt.case.id, 60),
                          safe_text(attempt.strategy, 40), safe_text(attempt.converter_label, 60))
    console.print(table)


@redteam_app.command("rerun")
@handle_errors
def rerun_command(
    log: Annotated[Path, typer.Argument(help="A past campaign log.")],
    failed: Annotated[bool, typer.Option(
        "--failed", help="Only attempts that succeeded (the target failed) last time.")] = False,
    attempt: Annotated[list[str] | None, typer.Option(
        "--attempt", "-a", help="Only these attempt ids (a report's 'reproduce' names one); "
        "comma-separated or repeated.")] = None,
    new_log: Annotated[Path | None, typer.Option("--log", help=(
        "Resumable JSONL log of the new attempts (default none)."))] = None,
    report_dir: Annotated[Path | None, typer.Option("--report-dir", "-o", help=(
        "Write reports to this folder (default: none, print the summary only)."))] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    target: Annotated[str | None, typer.Option("--target", "-t", help=(
        "Attack another target instead of the logged one (its options from -T only)."
    ))] = None,
    target_option: Annotated[list[str] | None, typer.Option(
        "--target-option", "-T", help="A target option as key=value; without --target these "
        "override the logged target's options.")] = None,
) -> None:
    """Re-run past attempts (same cases, strategies, converters, seeds) as a regression suite."""
    if new_log is not None and new_log.resolve() == log.resolve():
        raise ConfigError(f"--log {str(new_log)!r} is the log being re-run: its attempts would "
                          "count as done and nothing would be sent; pass a new --log path")
    header, attempts = _load(log)
    chosen = _chosen(attempts, failed, _split(attempt), log)
    config = _rerun_config(header, target, target_option)
    _report_dir(report_dir)
    campaign = Campaign(config, planned=replay_plan(chosen),
                        config_file=header.get("config_file"),
                        config_place=header.get("config_place"))
    results = _execute(campaign, new_log, quiet or as_json)
    if not _finish(results, campaign.header(), report_dir, list(FORMATS), as_json):
        raise typer.Exit(EXIT_RUNTIME_FAILURE)


def _rerun_config(header: dict[str, Any], target: str | None,
                  target_option: list[str] | None) -> CampaignConfig:
    """The logged campaign's settings, pointed at ``target`` or given new target options;
    a credential the log holds only as '[redacted]' is asked for, never sent."""
    config = CampaignConfig.model_validate(header["config"])
    options = _options(target_option, target or config.target)
    if target is not None:
        check_options("target", target, plugin_class("targets", target), options)
        config = config.model_copy(update={"target": target, "target_options": options})
    elif target_option:
        config = config.model_copy(update={"target_options": {
            **config.target_options, **options}})
    hidden = redacted_options(config.target_options)
    classifier = redacted_options(config.harm_options)
    if classifier:
        raise ConfigError(f"the log holds harm classifier option {classifier[0]!r} only as "
                          "'[redacted]' (credentials are never written to logs); give the key "
                          "by environment variable (BASTION_LLM_API_KEY for the llm tier) and "
                          "start a new campaign with 'bastion redteam run --config'")
    if hidden:
        raise ConfigError(f"the log holds target option {hidden[0]!r} only as '[redacted]' "
                          "(credentials are never written to logs); give it again with -T "
                          "(e.g. -T 'headers={\"Authorization\": \"Bearer ${MY_TOKEN}\"}': an "
                          "${ENV} reference is kept in the log)")
    models = [k for k in ("attacker_url", "judge_url") if REDACTED in (getattr(config, k) or "")]
    if models:
        raise ConfigError(f"the log holds {models[0]!r} with its credentials '[redacted]'; a "
                          "rerun cannot restore them: give the model's key by environment "
                          "variable (attacker_key_env / judge_key_env in a campaign file) and "
                          "start a new campaign with 'bastion redteam run --config'")
    return config


def _chosen(attempts: list[Attempt], failed: bool, ids: list[str] | None,
            log: Path) -> list[Attempt]:
    """The logged attempts a rerun replays; an id the log lacks is an error, not a no-op."""
    chosen = [a for a in attempts if a.success] if failed else attempts
    if not chosen:  # an empty rerun proves nothing and would pass as a clean one
        raise ConfigError(f"{str(log)!r} holds no successful attempt, so --failed has nothing "
                          f"to re-run; drop --failed to re-run all {len(attempts)}" if attempts
                          else f"{str(log)!r} holds no attempt to re-run")
    if ids is None:
        return chosen
    missing = sorted(set(ids) - {a.id for a in attempts})
    if missing:
        raise ConfigError(f"attempt {missing[0]!r} is not in {str(log)!r}; take an id from "
                          "this log's report ('reproduce' column) or 'bastion redteam compare'")
    out = [a for a in chosen if a.id in set(ids)]
    if not out:
        raise ConfigError(f"no attempt of {ids} succeeded in {str(log)!r}; drop --failed to "
                          "re-run them anyway")
    return out


@redteam_app.command("score")
@handle_errors
def score_command(
    source: Annotated[Path, typer.Argument(help=(
        "JSONL rows with 'response' (+ 'prompt', 'goal', 'label'); with 'goal' the refusal "
        "scorer reads a response it is unsure about with its request."))],
    scorer: Annotated[str, typer.Option("--scorer", help=(
        "refusal, or harm (what the response adds to its prompt, by response categories)."
    ))] = "refusal",
    policy: Annotated[str, typer.Option("--policy", help=(
        "Policy of the harm scorer: a built-in id or a .md file."))] = "default",
    tier: Annotated[str, typer.Option("--tier", help="Classifier tier of the harm scorer.")
                    ] = "default",
    label_field: Annotated[str, typer.Option("--label-field", help=(
        "Field holding the 0/1 label, when rows are labelled."))] = "label",
    positive: Annotated[str, typer.Option(
        "--positive", help="What label 1 means: 'success' (complied / harmful) or 'refusal'.")
    ] = "success",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Score responses; with labels, print precision, recall, F1 and AUPRC (as bastion eval)."""
    if scorer not in ("refusal", "harm") or positive not in ("success", "refusal"):
        raise ConfigError("--scorer must be refusal or harm; --positive success or refusal")
    rows = score_rows(read_rows(source, label_field), scorer,  # type: ignore[arg-type]
                      positive=positive, policy=policy, tier=tier,  # type: ignore[arg-type]
                      label_field=label_field)
    threshold = load_refusal_model().threshold if scorer == "refusal" else 0.5
    labelled = any(r.label is not None for r in rows)
    if as_json:
        print_json(measure(rows, threshold) if labelled else
                   {"n": len(rows), "scores": [r.score for r in rows]})
        return
    table = Table("response", "score", "predicted", "label")
    for row in rows[:50]:
        table.add_row(safe_text(row.response, 80), f"{row.score:.3f}", str(row.predicted),
                      "-" if row.label is None else str(row.label))
    console.print(table)
    if labelled:
        m = measure(rows, threshold)
        console.print(Text(f"n={m['n']} precision={m['precision']:.4f} recall={m['recall']:.4f} "
                           f"f1={m['f1']:.4f} auprc={m['auprc']}"))


def register(app: typer.Typer) -> None:
    """Add the ``redteam`` group to the main app."""
    app.add_typer(redteam_app, name="redteam")



