"""Each detector raises on the attack it is for, and stays quiet on ordinary traffic."""

from __future__ import annotations

import pytest

from bastion.errors import ConfigError
from bastion.monitor import (
    Alert,
    Detector,
    MonitorEvent,
    Watcher,
    build_detectors,
    detector_class,
    detector_names,
    replay,
)

from .conftest import background, event, hash_embed


def run(events: list[MonitorEvent], **settings: dict[str, object]) -> list[Alert]:
    watcher = Watcher(settings=dict(settings), embed=hash_embed)
    return list(replay(sorted(events, key=lambda e: e.at), watcher).alerts)


def by(alerts: list[Alert], detector: str) -> list[Alert]:
    return [a for a in alerts if a.detector == detector]


@pytest.mark.parametrize("name", detector_names())
def test_every_detector_takes_quiet_traffic_without_alerting(name: str) -> None:
    cls = detector_class(name)
    detector = cls(embed=hash_embed) if "embed" in getattr(cls, "accepts", ()) else cls()
    assert isinstance(detector, Detector)
    assert detector.observe([]) == []
    alerts = replay(background(240), Watcher([detector])).alerts
    assert alerts == ()


@pytest.mark.parametrize("name", detector_names())
def test_settings_reject_unknown_keys(name: str) -> None:
    with pytest.raises(ConfigError, match=f"detector '{name}' settings are invalid"):
        build_detectors({name: {"no_such_setting": 1}})


def test_unknown_detector_is_named() -> None:
    with pytest.raises(ConfigError, match="unknown detector"):
        build_detectors({"crystal-ball": {}})


def test_a_detector_can_be_switched_off() -> None:
    names = [d.name for d in build_detectors({"latency-spike": None})]
    assert "latency-spike" not in names
    assert "block-rate" in names


def test_a_jailbreak_burst_from_one_account_is_raised_early() -> None:
    burst = [event(3 * 3600 + n * 10, "acct_evil", decision="block", categories=("INJ",),
                   n=n, sample=f"jailbreak {n}") for n in range(30)]
    alerts = by(run(background(240) + burst), "block-rate")
    account = [a for a in alerts if a.key == "block-rate:account:acct_evil"]
    assert len(account) == 1
    assert account[0].accounts == ("acct_evil",)
    assert account[0].at < burst[10].at  # raised within the first blocks, not at the end
    assert account[0].evidence[-1].sample is not None


def test_fail_open_spike_on_a_route_is_critical() -> None:
    spike = [event(3 * 3600 + n * 5, f"acct_{n}", decision="fail_open", error=True,
                   fail_open=True, route="completions", n=n) for n in range(20)]
    (alert,) = by(run(background(240) + spike), "failure-spike")
    assert alert.severity == "critical"
    assert alert.routes == ("completions",)
    assert "fail-open" in alert.title


def test_latency_spike_is_raised_and_shows_the_slowest_checks() -> None:
    slow = [event(3 * 3600 + n * 2, f"acct_{n % 9}", n=n, latency_ms=250.0 + n)
            for n in range(120)]
    (alert,) = by(run(background(240) + slow), "latency-spike")
    assert alert.measures["observed_p95_ms"] > 200
    assert min(e.latency_ms for e in alert.evidence) >= 250.0


def test_an_account_probing_many_categories() -> None:
    codes = ["HAT", "VIO", "WPN", "MAL", "SEX", "FRD"]
    probe = [event(3 * 3600 + n * 300, "acct_probe", decision="block", categories=(code,), n=n)
             for n, code in enumerate(codes)]
    (alert,) = by(run(background(240) + probe), "category-probe")
    assert alert.accounts == ("acct_probe",)
    assert len(alert.categories) >= 5


def test_a_slow_attacker_is_raised_and_a_steady_user_is_not() -> None:
    slow = [event(n * 1800, "acct_slow", decision="block" if n % 3 else "pass",
                  categories=("WPN",) if n % 3 else (), n=n) for n in range(20)]
    heavy = [event(n * 60, "acct_busy", decision="block" if n % 40 == 0 else "pass",
                   categories=("HAT",) if n % 40 == 0 else (), n=n) for n in range(600)]
    alerts = by(run(slow + heavy), "slow-attacker")
    assert [a.accounts for a in alerts] == [("acct_slow",)]


def test_one_prompt_spreading_across_accounts_is_one_cluster() -> None:
    spread = [event(3 * 3600 + n * 60, f"acct_s{n}", decision="block", categories=("INJ",),
                    n=n, sample=f"OMEGA mode|variant {n}") for n in range(12)]
    noise = [event(3 * 3600 + n * 60 + 30, f"acct_n{n}", decision="block",
                   categories=("HAT",), n=n, sample=f"unrelated {n}") for n in range(12)]
    alerts = by(run(background(240) + spread + noise), "cluster-spread")
    assert [len(a.accounts) for a in alerts] == [5, 10]  # raised at 5 accounts, again at 10
    assert len({a.cluster for a in alerts}) == 1
    assert {a.key for a in alerts} == {f"cluster-spread:{alerts[0].cluster}"}


def test_a_broken_detector_is_dropped_and_the_others_keep_going() -> None:
    class Broken(Detector):
        name = "broken"

        def observe(self, events: object) -> list[Alert]:
            raise RuntimeError("bug")

    burst = [event(n, "acct_evil", decision="block", categories=("INJ",), n=n)
             for n in range(20)]
    watcher = Watcher([Broken(), *build_detectors({"cluster-spread": None})])
    alerts = replay(burst, watcher).alerts
    assert [d.name for d in watcher.detectors if d.name == "broken"] == []
    assert any(a.detector == "block-rate" for a in alerts)
