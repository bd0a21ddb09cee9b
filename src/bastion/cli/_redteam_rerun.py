"""``bastion redteam rerun``: past attempts replayed as a regression suite, against the logged
target or another one, with the logged attacker and judge models or others."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from bastion.cli._common import EXIT_RUNTIME_FAILURE, handle_errors
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
    split,
    target_options,
)
from bastion.cli._redteam_report import check_report_dir, finish, load
from bastion.cli._redteam_run import execute
from bastion.errors import ConfigError
from bastion.redteam import FORMATS, Attempt, Campaign, CampaignConfig, plugin_class, replay_plan
from bastion.redteam._config import (
    MODEL_ROLES,
    REDACTED,
    URL_BOUND,
    check_config,
    flag,
    redacted_options,
)
from bastion.redteam._options import check_options


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
    attacker_url: AttackerUrl = None,
    attacker_model: AttackerModel = None,
    attacker_timeout: AttackerTimeout = None,
    attacker_verify: AttackerVerify = None,
    judge_url: JudgeUrl = None,
    judge_model: JudgeModel = None,
    judge_timeout: JudgeTimeout = None,
    judge_verify: JudgeVerify = None,
) -> None:
    """Re-run past attempts (same cases, strategies, converters, seeds) as a regression suite.

    The attacker and judge flags override the logged campaign's settings, as run's override
    a campaign file's.
    """
    models = model_settings(locals())  # first: a bad value is refused before the log is read
    if new_log is not None and new_log.resolve() == log.resolve():
        raise ConfigError(f"--log {str(new_log)!r} is the log being re-run: its attempts would "
                          "count as done and nothing would be sent; pass a new --log path")
    header, attempts = load(log)
    chosen = _chosen(attempts, failed, split(attempt), log)
    config = _rerun_config(header, target, target_option, models, log)
    check_report_dir(report_dir)
    campaign = Campaign(config, planned=replay_plan(chosen),
                        config_file=header.get("config_file"),
                        config_place=header.get("config_place"))
    results = execute(campaign, new_log, quiet or as_json)
    if not finish(results, campaign.header(), report_dir, list(FORMATS), as_json):
        raise typer.Exit(EXIT_RUNTIME_FAILURE)


def _rerun_config(header: dict[str, Any], target: str | None, target_option: list[str] | None,
                  models: dict[str, Any], log: Path) -> CampaignConfig:
    """The logged campaign's settings, pointed at ``target`` or given new target options,
    its attacker and judge settings overridden by ``models`` (the flags given); a credential
    the log holds only as '[redacted]' is asked for, never sent."""
    config = check_config({**_used_settings(header["config"]), **models},
                          {"flags": models.keys(), "log": str(log)})
    options = target_options(target_option, target or config.target)
    if target is not None:
        check_options("target", target, plugin_class("targets", target), options)
        config = config.model_copy(update={"target": target, "target_options": options})
    elif target_option:
        config = config.model_copy(update={"target_options": {
            **config.target_options, **options}})
    _refuse_redacted(config)
    return config


def _used_settings(logged: dict[str, Any]) -> dict[str, Any]:
    """A log's settings less those of a model it has no URL for: a log writes every setting,
    defaults included, and without the URL they were never used (nor are they now: a flag
    that sets the URL starts from the defaults, and one that sets another is refused)."""
    unused = {f"{role}_{k}" for role in MODEL_ROLES if not logged.get(f"{role}_url")
              for k in URL_BOUND}
    return {k: v for k, v in logged.items() if k not in unused}


def _refuse_redacted(config: CampaignConfig) -> None:
    """A ConfigError for a credential the log holds only as '[redacted]': sending the
    placeholder would fail, or worse, authenticate as nobody and measure the wrong thing."""
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
        raise ConfigError(f"the log holds {models[0]!r} with its credentials '[redacted]' "
                          "(credentials are never written to logs); give the URL again with "
                          f"{flag(models[0])}, or give the model's key by environment "
                          "variable (attacker_key_env / judge_key_env in a campaign file) and "
                          "start a new campaign with 'bastion redteam run --config'")


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
