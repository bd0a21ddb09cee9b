"""Campaigns: every case x strategy x converter stack, run concurrently, scored and logged."""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio

from bastion import __version__
from bastion.errors import BastionError, ConfigError, RuntimeFailure
from bastion.redteam._attacker import Attacker
from bastion.redteam._base import Converter, Scorer, Strategy, Target
from bastion.redteam._config import CampaignConfig, scrub
from bastion.redteam._limits import RateLimiter
from bastion.redteam._log import CampaignLog
from bastion.redteam._plan import adrive
from bastion.redteam._plugins import (
    all_cases,
    make_converter,
    make_scorer,
    make_strategy,
    make_target,
)
from bastion.redteam._session import Session
from bastion.redteam._types import Attempt, Case, Score, Secrets
from bastion.redteam.reports._findings import now_iso
from bastion.redteam.reports._place import campaign_place

Progress = Callable[[Attempt], None]


@dataclass(frozen=True)
class Planned:
    """One attempt to make: which case, strategy and converter stack, and its seed."""

    id: str
    case: Case
    strategy: str
    converters: tuple[str, ...]
    seed: int


def plan_attempts(config: CampaignConfig, cases: Sequence[Case]) -> list[Planned]:
    """Every attempt of a campaign, in a stable order (a seeded sample when ``limit`` is set).

    A strategy or converter stack named twice (``-s single,single``) plans its attempts once:
    the same attempt twice would share one id, one log line and one verdict.
    """
    planned = []
    seen: set[str] = set()
    for case in cases:
        for strategy in config.strategies:
            for stack in config.stacks():
                for repeat in range(config.repeats):
                    key = f"{case.id}|{strategy}|{'+'.join(stack)}|{repeat}"
                    attempt_id = hashlib.sha256(key.encode()).hexdigest()[:16]
                    if attempt_id in seen:
                        continue
                    seen.add(attempt_id)
                    seed = int(hashlib.sha256(f"{config.seed}:{attempt_id}".encode())
                               .hexdigest()[:8], 16)
                    planned.append(Planned(attempt_id, case, strategy, stack, seed))
    if config.limit is not None and len(planned) > config.limit:
        keep = set(random.Random(config.seed).sample(  # noqa: S311 - seeded sample, not security
           range(len(planned)), config.limit))
        planned = [p for i, p in enumerate(planned) if i in keep]
    return planned


def decide(scores: Sequence[Score]) -> tuple[bool, str]:
    """An attempt succeeds when every deciding scorer says so (undecided ones abstain)."""
    decided = [s for s in scores if s.success is not None]
    if not decided:
        return False, "no scorer could decide: " + "; ".join(s.reason for s in scores)
    failed = [s for s in decided if not s.success]
    if failed:
        return False, "; ".join(f"{s.scorer}: {s.reason}" for s in failed)
    return True, "; ".join(f"{s.scorer}: {s.reason}" for s in decided)


def _check_options(setting: str, options: dict[str, dict[str, Any]], used: set[str]) -> None:
    """Raise a ConfigError for options given to a plugin the campaign does not use (a typo
    such as ``piar`` would otherwise change nothing without a word)."""
    stray = sorted(set(options) - used)
    if stray:
        raise ConfigError(f"{setting} name {stray[0]!r}, which this campaign does not use "
                          f"(it uses {sorted(used)}); fix the name or add it")


class Campaign:
    """A configured campaign, ready to run.

    Lifetime: build, ``await run()`` once. The target, scorers and attacker are created from
    the config unless a target instance is passed (a Python callable, a test double);
    ``config_file`` (the campaign file the config came from) is where SARIF results point:
    its path from the repository's root and the line naming each probe, found here, while
    the file is at hand (a rerun passes the ``config_place`` its first run found).
    """

    def __init__(self, config: CampaignConfig, *, target: Target | None = None,
                 planned: list[Planned] | None = None, config_file: str | None = None,
                 config_place: dict[str, Any] | None = None) -> None:
        self.config = config
        self.config_file = config_file
        self.config_place = config_place or (
            campaign_place(Path(config_file)) if config_file else None)
        self.attacker = (Attacker(config.attacker_url, config.attacker_model,
                                  config.attacker_key_env, timeout=config.attacker_timeout,
                                  verify=config.attacker_verify)
                         if config.attacker_url else None)
        self.judge = (Attacker(config.judge_url, config.judge_model, config.judge_key_env,
                               temperature=0.0, timeout=config.judge_timeout,
                               verify=config.judge_verify, role="judge")
                      if config.judge_url else None)
        self.target = target or make_target(config.target, **config.target_options)
        if planned is None:
            self.cases = all_cases(config.probes, config.probe_options)
            self.planned = plan_attempts(config, self.cases)
        else:
            self.planned = planned
            self.cases = list({p.case.id: p.case for p in planned}.values())
        used = {p.strategy for p in self.planned}
        names = {n for p in self.planned for n in p.converters}
        _check_options("strategy_options", config.strategy_options, used)
        _check_options("converter_options", config.converter_options, names)
        self.strategies: dict[str, Strategy] = {
            n: make_strategy(n, self.attacker, check=True, **config.strategy_options.get(n, {}))
            for n in sorted(used)}
        multi = sorted(n for n, s in self.strategies.items() if s.multi_turn)
        if multi and not self.target.multi_turn:
            raise ConfigError(f"strategies {multi} hold conversations, but target "
                              f"{config.target!r} can send only one message; give its option "
                              "'body' a {messages} or {session_id} slot")
        planting = sorted({p.case.probe for p in self.planned if p.case.setup})
        if planting and self.target.context_refused:
            raise ConfigError(f"probes {planting} plant context (a document or tool result) "
                              f"before the prompt, but {self.target.context_refused}")
        self.converters: dict[str, Converter] = {
            n: make_converter(n, self.attacker, **config.converter_options.get(n, {}))
            for n in sorted(names)}
        wanted = set(config.scorers or {n for c in self.cases for n in c.scorers})
        self.scorers: dict[str, Scorer] = {
            n: make_scorer(n, self.attacker, config.harm_tier, config.harm_options,
                           judge=self.judge)
            for n in sorted(wanted)}
        self.limiter = RateLimiter(config.rate)
        self.started_at = now_iso()

    @property
    def secrets(self) -> Secrets:
        """The target's planted secrets."""
        return self.target.secrets

    def header(self) -> dict[str, object]:
        """Log header: settings (credentials redacted), fingerprint and what the report needs
        to know."""
        return {"config": self.config.public_dump(),
                "fingerprint": self.config.fingerprint(), "attempts": len(self.planned),
                "started_at": self.started_at, "bastion_version": __version__,
                **({"config_file": self.config_file, "config_place": self.config_place}
                   if self.config_file else {}),
                "target_secrets": {"canaries": list(self.secrets.canaries),
                                   "system_prompt": self.secrets.system_prompt}}

    async def run(self, log_path: Path | None = None, on_attempt: Progress | None = None,
                  resume: bool = True) -> list[Attempt]:
        """Run every planned attempt not already in the log; returns all, in plan order."""
        log = CampaignLog(log_path, self.header(), resume=resume) if log_path else None
        done = dict(log.done) if log else {}
        todo = iter([p for p in self.planned if p.id not in done])

        async def worker() -> None:
            for item in todo:
                attempt = await self.attempt(item)
                done[attempt.id] = attempt
                if log:
                    log.append(attempt)
                if on_attempt:
                    on_attempt(attempt)

        try:
            async with self.target, anyio.create_task_group() as group:
                for _ in range(self.config.concurrency):
                    group.start_soon(worker)
        except BaseExceptionGroup as group:
            # A worker's Bastion error (a bad tier found at the first score) is one error for
            # the caller, not a traceback of the task group that carried it.
            first = next((e for e in group.exceptions if isinstance(e, BastionError)), None)
            if first is None:
                raise
            raise first from group
        finally:
            if log:
                log.close()
            for client in (self.attacker, self.judge):
                if client is not None:
                    await client.aclose()
        return [done[p.id] for p in self.planned if p.id in done]

    async def attempt(self, item: Planned) -> Attempt:
        """Run, score and time one attempt; runtime failures become an error attempt."""
        rng = random.Random(item.seed)  # noqa: S311 - reproducible attacks, not security
        session = Session(item.case, self.target,
                          [self.converters[n] for n in item.converters], rng,
                          attacker=self.attacker, limiter=self.limiter,
                          retries=self.config.retries, backoff=self.config.backoff)
        base = Attempt(item.id, item.case, item.strategy, item.converters, item.seed)
        start = time.perf_counter()
        try:
            await adrive(self.strategies[item.strategy].plan(item.case, rng), session.handle)
        except RuntimeFailure as exc:
            # An error page may show the request, API key included.
            error = scrub(str(exc), self.target.credentials)
            return base.with_outcome(turns=tuple(session.turns), error=error,
                                     reason=f"error: {error}",
                                     duration_ms=round((time.perf_counter() - start) * 1000, 2),
                                     meta={"finished_at": round(time.time(), 3)})
        done = base.with_outcome(turns=tuple(session.turns))
        names = self.config.scorers or list(item.case.scorers)
        scores = tuple([await self.scorers[n].score(done, self.secrets) for n in names])
        success, reason = decide(scores)
        return done.with_outcome(scores=scores, success=success, reason=reason,
                                 duration_ms=round((time.perf_counter() - start) * 1000, 2),
                                 meta={"finished_at": round(time.time(), 3)})


def replay_plan(attempts: Sequence[Attempt]) -> list[Planned]:
    """Plan the same attempts again (same ids, cases, strategies, converters and seeds)."""
    return [Planned(a.id, a.case, a.strategy, a.converters, a.seed) for a in attempts]


async def run_campaign(config: CampaignConfig, *, target: Target | None = None,
                       log_path: Path | None = None, on_attempt: Progress | None = None,
                       resume: bool = True) -> list[Attempt]:
    """Build and run a campaign; the one-call API."""
    return await Campaign(config, target=target).run(log_path, on_attempt, resume)
