"""The CI gate: fail when attack success rates exceed limits, and fail closed.

A threshold file (YAML or JSON) sets limits overall and per group::

    overall: 0.05
    max_error_rate: 0.0      # share of attempts that errored or that no scorer could judge
    min_judged: 50           # fewer judged attempts than this is a failure, not a pass
    category: {malware: 0.0, prompt_injection: 0.10}
    owasp: {"LLM07:2025": 0.0, LLM01: 0.1}    # LLM01 is read as LLM01:2025
    probe: {jailbreak: 0.05}

The gate never passes on evidence it does not have: errored and undecided attempts count
against ``max_error_rate`` (default 0), a campaign with fewer than ``min_judged`` judged
attempts (default 1) fails, and an unknown key, or a group the campaign never attacked (a
typo such as ``malwre``), is a configuration error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from bastion.errors import ConfigError, InputError
from bastion.redteam._summary import Rate, Summary, undecided
from bastion.redteam._types import Attempt
from bastion.taxonomy import owasp_id

GROUPINGS = {"category": "by_category", "owasp": "by_owasp", "atlas": "by_atlas",
             "probe": "by_probe", "converter": "by_converter", "strategy": "by_strategy"}
HEALTH_KEYS = ("max_error_rate", "min_judged")
DEFAULT_MAX_ERROR_RATE = 0.0
DEFAULT_MIN_JUDGED = 1


@dataclass(frozen=True)
class Breach:
    """A limit the campaign broke.

    Attributes:
        grouping: ``overall``, a grouping (``category``...), ``errors`` or ``judged``.
        group: the group's name (the grouping's name for campaign-wide limits).
        asr: the measured value (attack success rate, error rate or judged count).
        limit: the limit it broke.
        n: attempts the value is measured on.
        missing: planned attempts absent from the log (counted as errors).
    """

    grouping: str
    group: str
    asr: float
    limit: float
    n: int
    missing: int = 0

    def render(self) -> str:
        """One line for the terminal."""
        if self.grouping == "errors":
            gone = (f"; {self.missing} planned attempts are not in the log: the campaign did "
                    "not finish, resume it with the same command and --log"
                    if self.missing else "")
            return (f"error rate {self.asr:.1%} > limit {self.limit:.1%} ({self.n} attempts "
                    f"errored, could not be judged or never ran{gone}); the campaign proves "
                    "nothing about them")
        if self.grouping == "judged":
            return (f"only {self.n} judged attempts, fewer than the minimum "
                    f"{int(self.limit)}; the gate does not pass on missing evidence")
        return (f"{self.grouping} {self.group!r}: ASR {self.asr:.1%} > limit {self.limit:.1%} "
                f"(n={self.n})")


def load_thresholds(path: Path) -> dict[str, object]:
    """Read and check a threshold file (keys, and the type of every value)."""
    try:
        data = yaml.safe_load(path.read_text("utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read threshold file {str(path)!r}: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"threshold file {str(path)!r} must be a mapping")
    unknown = set(data) - {"overall", *HEALTH_KEYS, *GROUPINGS}
    if unknown:
        raise ConfigError(f"threshold file {str(path)!r}: unknown keys {sorted(unknown)}; "
                          f"use overall, {', '.join(HEALTH_KEYS)}, {', '.join(GROUPINGS)}")
    for grouping in GROUPINGS:
        if grouping in data and not isinstance(data[grouping], dict):
            raise ConfigError(f"threshold file {str(path)!r}: {grouping!r} must map group "
                              "names to rates")
    return data


def _limit(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        hint = ""
        if isinstance(value, str) and value.strip().endswith("%"):
            hint = f"; write a percentage as a fraction ({value.strip()} is {_fraction(value)})"
        elif isinstance(value, int | float) and not isinstance(value, bool) and 1 < value <= 100:
            hint = f"; for {value}% write {value / 100:g}"
        raise ConfigError(f"threshold {where}: {value!r} is not a rate between 0 and 1{hint}")
    return float(value)


def _fraction(percent: str) -> str:
    """``'5%'`` as the fraction a threshold takes (``'0.05'``), or how to write one."""
    try:
        return f"{float(percent.strip()[:-1]) / 100:g}"
    except ValueError:
        return "a number such as 0.05"


def _count(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"threshold {where}: {value!r} is not a whole number >= 0")
    return value


def health(attempts: Sequence[Attempt], thresholds: Mapping[str, object],
           planned: int | None = None) -> list[Breach]:
    """Breaches of the error-rate and minimum-evidence limits.

    Planned attempts missing from the log (a campaign stopped half way) count as errors.
    """
    max_errors = _limit(thresholds.get("max_error_rate", DEFAULT_MAX_ERROR_RATE),
                        "max_error_rate")
    min_judged = _count(thresholds.get("min_judged", DEFAULT_MIN_JUDGED), "min_judged")
    missing = max(0, (planned or 0) - len(attempts))
    bad = sum(undecided(a) for a in attempts) + missing
    judged = len(attempts) + missing - bad
    breaches = []
    rate = bad / (len(attempts) + missing) if attempts or missing else 0.0
    if rate > max_errors:
        breaches.append(Breach("errors", "errors", round(rate, 4), max_errors, bad, missing))
    if judged < min_judged:
        breaches.append(Breach("judged", "judged", float(judged), float(min_judged), judged))
    return breaches


def check(summary: Summary, thresholds: Mapping[str, object],
          attempts: Sequence[Attempt] | None = None, planned: int | None = None
          ) -> list[Breach]:
    """Every breached limit (empty when the campaign passes).

    With ``attempts``, the error-rate and minimum-evidence limits are checked too, and
    ``planned`` (the log header's count) makes attempts that never ran count as errors.

    Raises:
        ConfigError: a limit is not a rate, or names a group the campaign never attacked.
    """
    breaches: list[Breach] = [] if attempts is None else health(attempts, thresholds,
                                                                   planned)
    if "overall" in thresholds:
        limit = _limit(thresholds["overall"], "overall")
        if summary.overall.asr > limit:
            breaches.append(_breach("overall", summary.overall, limit))
    for grouping, attr in GROUPINGS.items():
        limits = thresholds.get(grouping) or {}
        if not isinstance(limits, dict):
            raise ConfigError(f"threshold {grouping!r} must map group names to rates")
        if grouping == "owasp":
            limits = {_owasp(str(k)): v for k, v in limits.items()}
        rates: dict[str, Rate] = {r.group: r for r in getattr(summary, attr)}
        missing = sorted(set(limits) - set(rates))
        if missing:
            raise ConfigError(f"threshold {grouping} {missing[0]!r} names no {grouping} this "
                              f"campaign attacked (a typo?); it has {sorted(rates)}")
        for group, value in limits.items():
            limit = _limit(value, f"{grouping}.{group}")
            if rates[group].asr > limit:
                breaches.append(_breach(grouping, rates[group], limit))
    return breaches


def _owasp(key: str) -> str:
    """``LLM01`` as cases carry it (``LLM01:2025``); a key that is no OWASP id stays as it is,
    for the 'names no owasp' error to name."""
    try:
        return owasp_id(key)
    except InputError:
        return key


def _breach(grouping: str, rate: Rate, limit: float) -> Breach:
    return Breach(grouping, rate.group, rate.asr, limit, rate.n)
