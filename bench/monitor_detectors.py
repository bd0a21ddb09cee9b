"""Detectors on recorded days of synthetic traffic with injected incidents.

Usage::

    python bench/monitor_detectors.py [--dev 0] [--test 1,2,3] [--events 110000]

Each seed is one day (``bastion.monitor.synthetic_day``: ~115,000 events from 800 accounts)
with six injected incidents: a jailbreak burst from one account, a slow attacker, one attack
spreading across 20 accounts, an account probing many categories, a fail-open spike and a
latency spike. The day is replayed through every registered detector with its default
settings (real embeddings of blocked prompts, batched) and scored:

* recall: the share of injected incidents that raised at least one alert whose evidence holds
  the incident's events;
* false alerts per 10,000 benign events: alerts whose evidence holds no injected event;
* events until raised: how many of an incident's events had happened when it was first raised.

The defaults were chosen by hand on the dev seed only (seed 0); the test seeds report them.
Results go to ``bench/results/monitor_detectors.json``; the headline figures are the medians
over the test seeds.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bastion.monitor import Watcher, detector_class, detector_names, replay
from bastion.monitor._synthetic import INJECTIONS, DayScore, evaluate, synthetic_day

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "monitor_detectors.json"


def run_day(seed: int, events: int) -> tuple[DayScore, dict[str, float]]:
    """Generate, replay and score one day; the seconds each step took."""
    start = time.perf_counter()
    day = synthetic_day(seed, events=events)
    generated = time.perf_counter()
    result = replay(day.events, Watcher())
    done = time.perf_counter()
    return evaluate(day, result), {"generate_s": round(generated - start, 2),
                                   "replay_s": round(done - generated, 2)}


def day_json(score: DayScore, timing: dict[str, float]) -> dict[str, Any]:
    """One day's figures."""
    return {
        "seed": score.seed, "events": score.events, "benign_events": score.benign,
        "recall": round(score.recall, 4), "alerts": score.alerts,
        "false_alerts": len(score.false_alerts),
        "false_alerts_per_10k_benign": round(score.false_per_10k, 3),
        "incidents": score.incidents, "false_incidents": score.false_incidents,
        "detections": [{"incident": d.name, "detected": d.detected,
                        "events_until_raised": d.events_until,
                        "incident_events": d.injected_events, "detectors": list(d.detectors)}
                       for d in score.detections],
        "false_alert_detectors": sorted(a.detector for a in score.false_alerts),
        **timing,
    }


def summary(days: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians over days, and events until raised per incident kind."""
    until: dict[str, list[int]] = {name: [] for name in INJECTIONS}
    missed: dict[str, int] = dict.fromkeys(INJECTIONS, 0)
    for day in days:
        for found in day["detections"]:
            if found["detected"]:
                until[found["incident"]].append(found["events_until_raised"])
            else:
                missed[found["incident"]] += 1
    return {
        "days": len(days),
        "recall_median": statistics.median(d["recall"] for d in days),
        "recall_min": min(d["recall"] for d in days),
        "false_alerts_per_10k_benign_median": statistics.median(
            d["false_alerts_per_10k_benign"] for d in days),
        "false_alerts_per_10k_benign_max": max(d["false_alerts_per_10k_benign"] for d in days),
        "events_until_raised_median": {k: statistics.median(v) if v else None
                                       for k, v in until.items()},
        "events_until_raised_max": {k: max(v) if v else None for k, v in until.items()},
        "missed": missed,
    }


def main(argv: list[str] | None = None) -> int:
    """Run the bench and write the results."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--dev", default="0", help="dev seeds (settings chosen on these)")
    parser.add_argument("--test", default="1,2,3", help="test seeds (reported)")
    parser.add_argument("--events", type=int, default=110_000, help="events per day")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    began = time.perf_counter()
    splits: dict[str, list[dict[str, Any]]] = {}
    for split, seeds in (("dev", args.dev), ("test", args.test)):
        splits[split] = []
        for seed in (int(s) for s in seeds.split(",") if s):
            score, timing = run_day(seed, args.events)
            splits[split].append(day_json(score, timing))
            print(f"{split} seed {seed}: recall {score.recall:.2f}, "
                  f"{score.false_per_10k:.2f} false alerts / 10k benign, {timing}",
                  file=sys.stderr)
    result = {
        "command": "python bench/monitor_detectors.py " + " ".join(argv or sys.argv[1:]),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
        "goals": {"recall": ">= 0.9", "false_alerts_per_10k_benign": "<= 1"},
        "settings": {name: detector_class(name).Settings().model_dump()
                     for name in detector_names()},
        "dev": {"days": splits["dev"], "summary": summary(splits["dev"])},
        "test": {"days": splits["test"], "summary": summary(splits["test"])},
        "wall_s": round(time.perf_counter() - began, 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result["test"]["summary"], indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
