"""Abuse monitoring: severity-weighted strikes, circumvention signals, decay, thresholds.

For each request the gateway hands the monitor the verdicts it produced. Strikes are:

* per violated verdict, the heaviest ``SEVERITY_WEIGHT`` among its violated categories
  (times ``flag_weight`` for flag-only verdicts, times ``output_weight`` for completions,
  which add up in a score of their own: with the account's they raise it to ``throttle``,
  but only the account's own prompts can take it to ``suspend``, unless
  ``answers_suspend``);
* plus ``jailbreak_strikes`` when a jailbreak/injection category is violated;
* plus ``obfuscation_strikes`` when the violating text holds a form the classifier had to
  decode or fold to read (``verdict.meta["signals"]`` within :data:`OBFUSCATION_SIGNALS`:
  encodings such as base64, hex, character codes, A1Z26 or Morse; homoglyphs, tag or
  invisible characters, leetspeak);
* plus ``near_duplicate_strikes`` when a blocked prompt closely resembles a recent blocked one;
* plus ``burst_strikes`` when ``burst_blocks`` prompts were blocked within ``burst_window_s``.

A *borderline* verdict, every violated category of which scores less than
``uncertain_margin`` above its threshold, earns ``uncertain_weight`` of those strikes; a
request whose blocks are all borderline earns that share of its retry signals too (a person
rephrasing after a false block is what a retry looks like), and it is not counted toward
``severe_blocks``. The classifier's false positives are mostly borderline and real attacks
mostly are not, so one user's run of false blocks does not suspend them, while every block
still counts. Obfuscation strikes stay whole: hiding a request is intent of its own.

The decayed score then maps to a level: ``ok`` < ``warn`` < ``throttle`` < ``suspend``.
Next to the decaying score, a long-window count catches the slow attacker the decay forgives:
``severe_blocks`` blocked prompts of ``severe_severity`` or worse within ``severe_window_s``
(a day; each flagged input of a moderation request counts) suspend the account whatever its
score.
A red-teamer inside an active engagement reaches the levels too, but is never suspended for
what the engagement is there to probe: the decision says ``exempt`` (and is audited like any
other) when every violated category is inside the key's ``Scopes.categories``. A violation
outside them counts as for anyone, so an engagement is no licence for out-of-scope harm.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bastion.accounts._counters import StrikeStore, answers_of
from bastion.accounts._model import AccountInfo, Scopes
from bastion.accounts._similar import fingerprint, similarity
from bastion.classify import SIGNALS, Verdict
from bastion.policy import SEVERITY_WEIGHT, Severity

Level = Literal["ok", "warn", "throttle", "suspend"]

#: The classifier's signals (:data:`bastion.classify._normalize.SIGNALS`) that earn
#: ``obfuscation_strikes`` on a violation: all but ``\uXXXX`` escapes, which JSON
#: serialisers write for any text outside ASCII (Python's ``json.dumps`` by default), so a
#: pasted payload holds them without anyone hiding anything.
OBFUSCATION_SIGNALS = SIGNALS - {"escapes"}


class AbuseSettings(BaseModel):
    """Thresholds and weights of the abuse monitor (all configurable)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    half_life_s: float = Field(default=3600.0, gt=0)
    warn_at: float = Field(default=8.0, gt=0)
    throttle_at: float = Field(default=20.0, gt=0)
    suspend_at: float = Field(default=40.0, gt=0)
    throttle_requests_per_minute: int = Field(default=6, ge=1)
    flag_weight: float = Field(default=0.25, ge=0)
    output_weight: float = Field(default=0.5, ge=0)
    #: Whether blocked answers alone can suspend an account. Off by default: whoever can
    #: steer a model's answers (a prompt injection in a page the victim's app reads) could
    #: otherwise get an innocent account suspended. They still count toward ``throttle``.
    answers_suspend: bool = False
    jailbreak_categories: tuple[str, ...] = ("INJ",)
    jailbreak_strikes: float = Field(default=2.0, ge=0)
    obfuscation_strikes: float = Field(default=2.0, ge=0)
    near_duplicate_strikes: float = Field(default=2.0, ge=0)
    near_duplicate_similarity: float = Field(default=0.5, gt=0, le=1)
    burst_strikes: float = Field(default=3.0, ge=0)
    burst_blocks: int = Field(default=5, ge=2)
    burst_window_s: float = Field(default=60.0, gt=0)
    remember_blocked: int = Field(default=20, ge=1)
    level_cache_s: float = Field(default=1.0, ge=0)
    severe_severity: Severity = "critical"
    severe_blocks: int = Field(default=10, ge=1)
    severe_window_s: float = Field(default=86_400.0, gt=0)
    #: Chosen on the classifier's validation split by ``bench/strike_margin.py`` (the margin
    #: with the widest gap between the share of false positives and the share of true
    #: violations under it; results in ``bench/results/strike_margin.json``). The weight is
    #: not chosen on data: a borderline block counts as a flag does (``flag_weight``).
    uncertain_margin: float = Field(default=0.35, ge=0, le=1)
    uncertain_weight: float = Field(default=0.25, ge=0, le=1)
    #: How long a passing input check waits for the account's earlier checks to count their
    #: strikes before its request goes upstream (0: no wait, parallel probes race the count).
    order_wait_s: float = Field(default=10.0, ge=0)
    appeal_hint: str = ("If you believe this is a mistake, ask your Bastion administrator to "
                        "review it ('bastion accounts reinstate').")

    @model_validator(mode="after")
    def _ordered(self) -> AbuseSettings:
        if not self.warn_at < self.throttle_at < self.suspend_at:
            raise ValueError(f"abuse thresholds must rise: warn_at ({self.warn_at}) < "
                             f"throttle_at ({self.throttle_at}) < suspend_at "
                             f"({self.suspend_at})")
        return self


def margin(verdict: Verdict) -> float:
    """How far above its threshold the verdict's clearest violated category scores (0.0 when
    none is violated): what tells a borderline block from a confident one."""
    return max((c.score - c.threshold for c in verdict.violated), default=0.0)


@dataclass(frozen=True)
class AbuseDecision:
    """What the monitor concluded about one request.

    Attributes:
        strikes: strikes added by this request.
        score: the account's decayed score after adding them.
        level: the level the score reaches.
        reasons: one line per contribution, e.g. ``"WPN violated (critical): +8.0"``.
        exempt: a red-teamer inside an active engagement (never suspended).
    """

    strikes: float
    score: float
    level: Level
    reasons: tuple[str, ...] = field(default_factory=tuple)
    exempt: bool = False

    @property
    def suspend(self) -> bool:
        """True when the account must be suspended now."""
        return self.level == "suspend" and not self.exempt


class AbuseMonitor:
    """Turns verdicts into strikes and levels.

    Lifetime: one per gateway process. Concurrency: safe for concurrent requests; the store
    makes score updates atomic. Failure: store errors propagate as RuntimeFailure; the
    gateway logs them and keeps serving (a strike lost is better than a request refused).

    Args:
        settings: weights and thresholds.
        store: where scores live.
        severities: category code -> severity, for every policy the gateway uses.
    """

    def __init__(self, settings: AbuseSettings, store: StrikeStore,
                 severities: Mapping[str, Severity]) -> None:
        self.settings = settings
        self.store = store
        self.severities = dict(severities)
        self._levels: dict[str, tuple[float, Level]] = {}

    def level_of(self, score: float) -> Level:
        """The level a score reaches."""
        s = self.settings
        if score >= s.suspend_at:
            return "suspend"
        if score >= s.throttle_at:
            return "throttle"
        return "warn" if score >= s.warn_at else "ok"

    async def level(self, account_id: str) -> Level:
        """The account's level now (no strikes added).

        A lookup is reused for ``level_cache_s`` (this process's own strikes update it at
        once), so a busy account costs the store one read a second, not one per request.
        """
        now = time.monotonic()
        cached = self._levels.get(account_id)
        if cached is not None and now - cached[0] < self.settings.level_cache_s:
            return cached[1]
        now_s, half_life = time.time(), self.settings.half_life_s
        level = self.level_of(await self.store.score(account_id, now_s, half_life)
                              + await self.store.score(answers_of(account_id), now_s, half_life))
        self._remember(account_id, level)
        return level

    def _remember(self, account_id: str, level: Level) -> None:
        if len(self._levels) > 10_000:
            self._levels.clear()
        self._levels[account_id] = (time.monotonic(), level)

    def forget(self, account_id: str) -> None:
        """Drop the cached level of an account (after reinstating it)."""
        self._levels.pop(account_id, None)

    async def assess(self, account: AccountInfo, inputs: Sequence[Verdict],
                     outputs: Sequence[Verdict], prompt: str, *,
                     scopes: Scopes | None = None) -> AbuseDecision:
        """Add strikes for one request's verdicts and return the resulting decision.

        ``scopes`` are the calling key's: an engagement exempts only violations of its
        categories.
        """
        s = self.settings
        answers = self._verdict_strikes(outputs, s.output_weight)
        reasons = self._verdict_strikes(inputs, 1.0)
        now = time.time()
        blocked = [v for v in inputs if v.action == "block" and v.kind == "violation"]
        confident = [v for v in blocked if not self.borderline(v)]
        if blocked:
            retries = await self._retry_signals(account.id, prompt, now)
            if not confident:
                retries = [(round(amount * s.uncertain_weight, 3), f"{text} (borderline)")
                           for amount, text in retries]
            reasons.extend(retries)
        # Strikes for answers add up apart (unless answers_suspend): they raise the level to
        # throttle, but only the account's own prompts can take it to suspension. In one
        # score, eleven steered answers and one curious question suspended an account.
        own = round(sum(amount for amount, _ in reasons), 3)
        steered = round(sum(amount for amount, _ in answers), 3)
        if s.answers_suspend:
            own, steered = round(own + steered, 3), 0.0
        score = await self.store.add(account.id, own, now, s.half_life_s)
        answers_key = answers_of(account.id)  # read only when no answer adds to it
        apart = (await self.store.add(answers_key, steered, now, s.half_life_s) if steered
                 else await self.store.score(answers_key, now, s.half_life_s))
        level = self.level_of(score + apart)
        notes = [f"{text}: +{amount:g}" for amount, text in (*reasons, *answers)]
        if level == "suspend" and self.level_of(score) != "suspend":
            level = "throttle"
            notes.append("blocked answers never suspend an account "
                         "(abuse.answers_suspend)")
        strikes = round(own + steered, 3)
        score = score + apart
        for _ in filter(self._severe, confident):  # each flagged input of a moderation counts
            count = await self.store.note_severe(account.id, now, s.severe_window_s)
            if count >= s.severe_blocks:
                level = "suspend"
                notes.append(f"{count} blocked {s.severe_severity}-severity prompts within "
                             f"{s.severe_window_s:g} s (limit {s.severe_blocks})")
        self._remember(account.id, level)
        violated = {c.code for v in (*inputs, *outputs) if v.kind == "violation"
                    for c in v.violated}
        exempt = (account.in_engagement(datetime.now(UTC))
                  and (scopes or Scopes()).covers(violated))
        return AbuseDecision(strikes, round(score, 3), level, tuple(notes), exempt)

    def borderline(self, verdict: Verdict) -> bool:
        """Whether every violated category scores under ``uncertain_margin`` above its
        threshold (never for a verdict that violates nothing)."""
        return bool(verdict.violated) and margin(verdict) < self.settings.uncertain_margin

    def _severe(self, verdict: Verdict) -> bool:
        floor = SEVERITY_WEIGHT[self.settings.severe_severity]
        return any(SEVERITY_WEIGHT[self._severity(c.code)] >= floor for c in verdict.violated)

    def _verdict_strikes(self, verdicts: Sequence[Verdict],
                         scale: float) -> list[tuple[float, str]]:
        s = self.settings
        out: list[tuple[float, str]] = []
        for verdict in verdicts:
            violated = verdict.violated
            if verdict.kind != "violation" or verdict.action not in ("block", "flag"):
                continue
            worst = max(violated, key=lambda c: SEVERITY_WEIGHT[self._severity(c.code)])
            severity = self._severity(worst.code)
            weight = SEVERITY_WEIGHT[severity] * scale
            if verdict.action == "flag":
                weight *= s.flag_weight
            share, note = 1.0, ""
            if self.borderline(verdict):
                share = s.uncertain_weight
                note = (f", borderline: {worst.code} {worst.score:.2f} under its threshold "
                        f"{worst.threshold:.2f} + {s.uncertain_margin:g}")
            out.append((round(weight * share, 3),
                        f"{worst.code} violated ({severity}, {verdict.action}{note})"))
            if any(c.code in s.jailbreak_categories for c in violated):
                out.append((round(s.jailbreak_strikes * share, 3),
                            "jailbreak or injection attempt"))
            signals = sorted(OBFUSCATION_SIGNALS & set(verdict.meta.get("signals", ())))
            if signals:
                out.append((s.obfuscation_strikes, f"obfuscation decoded ({', '.join(signals)})"))
        return out

    async def _retry_signals(self, account_id: str, prompt: str,
                             now: float) -> list[tuple[float, str]]:
        s = self.settings
        print_ = fingerprint(prompt)
        history = await self.store.note_block(account_id, print_, now, s.burst_window_s,
                                              s.remember_blocked)
        out: list[tuple[float, str]] = []
        best = max((similarity(print_, old) for old in history.fingerprints), default=0.0)
        if best >= s.near_duplicate_similarity:
            out.append((s.near_duplicate_strikes,
                        f"near-duplicate retry of a blocked prompt (similarity {best:.2f})"))
        if history.recent_blocks + 1 >= s.burst_blocks:
            out.append((s.burst_strikes, f"{history.recent_blocks + 1} blocked prompts within "
                        f"{s.burst_window_s:g} s"))
        return out

    def _severity(self, code: str) -> Severity:
        return self.severities.get(code, "medium")
