"""Policy live reload: what the gateway's store check costs, and how soon a publish is live.

One process: a scripted upstream and a gateway (rules tier, SQLite) on loopback, and this
client. Three figures:

- ``heads_ms``: one read of the store's published heads (the query a gateway runs at most
  once per ``policy_reload_s``), with every built-in policy published.
- ``publish_to_live_s``: from ``publish`` returning to the first request judged by the new
  version, polling every 10 ms, with the default ``policy_reload_s`` (2 s); rounds alternate
  a stricter version and a rollback.
- ``request_ms``: median request latency with the store read before every request
  (``policy_reload_s=0``) and with the default period, so the cost of the check shows.

    .venv/bin/python bench/policy_reload.py          # ~1 minute
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bastion.accounts import AccountStore
from bastion.gateway import create_app, load_config
from bastion.monitor import AuditLog
from bastion.policy import builtin_path, builtin_policies
from bastion.policy.store import PolicyStore
from bastion.store import close_store, open_store
from bastion.testing import ScriptedUpstream, serve_app, upstream_app

ROOT = Path(__file__).resolve().parent.parent
STRICT = builtin_path("default").read_text("utf-8").replace(
    "    head: harm\n", "    head: harm\n    keywords:\n      HRM-1: [\"pineapple\"]\n")
CHAT = {"model": "scripted-upstream",
        "messages": [{"role": "user", "content": "a pineapple pizza recipe"}]}


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank) of values."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


def summary(values: list[float], digits: int = 3) -> dict[str, float]:
    """Median, p95 and max, rounded."""
    return {"median": round(statistics.median(values), digits),
            "p95": round(percentile(values, 95), digits), "max": round(max(values), digits),
            "n": len(values)}


def gateway(db: str, upstream_url: str, reload_s: float) -> Any:
    """A gateway app over ``db`` (rules tier, the store read every ``reload_s``)."""
    environ = {"BASTION_GATEWAY__UPSTREAM__BASE_URL": upstream_url,
               "BASTION_GATEWAY__DATABASE_URL": db,
               "BASTION_GATEWAY__CLASSIFIER__TIER": "rules",
               "BASTION_GATEWAY__POLICY_RELOAD_S": str(reload_s),
               # the timing loop sends blocked prompts on purpose; strikes would suspend it
               "BASTION_GATEWAY__ABUSE__ENABLED": "false"}
    return create_app(load_config(environ=environ))


def heads_ms(store: PolicyStore, rounds: int) -> dict[str, float]:
    """Time of one read of the published heads."""
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        store.heads()
        times.append((time.perf_counter() - started) * 1000)
    return summary(times)


def publish_to_live(client: httpx.Client, store: PolicyStore, strict: int,
                    rounds: int) -> dict[str, float]:
    """Seconds from a publish to the first request judged by it."""
    waits = []
    pauses = random.Random(7)
    for index in range(rounds):
        number, want = (strict, 400) if index % 2 == 0 else (1, 200)
        time.sleep(pauses.uniform(0, 2.0))  # publish at any moment of the gateway's period
        store.publish("default", number, by="bench", reason=f"round {index}")
        started = time.perf_counter()
        while (status := client.post("/chat/completions", json=CHAT).status_code) != want:
            if status not in (200, 400) or time.perf_counter() - started > 30:
                raise SystemExit(f"round {index}: status {status} while waiting for {want}")
            time.sleep(0.01)
        waits.append(time.perf_counter() - started)
    return summary(waits)


def request_ms(client: httpx.Client, rounds: int) -> float:
    """Median latency of a benign chat request."""
    body = {**CHAT, "messages": [{"role": "user", "content": "how long to steep tea?"}]}
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        client.post("/chat/completions", json=body).raise_for_status()
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 3)


def main() -> None:
    """Run the three measurements and write the results file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="Publishes to time.")
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/policy_reload.json")
    args = parser.parse_args()
    os.environ.setdefault("BASTION_IDENTITY_SECRET", "bench")
    folder = Path(tempfile.mkdtemp(prefix="bastion-reload-"))
    db = f"sqlite:///{folder}/bench.db"
    sessions = open_store(db)
    store = PolicyStore(sessions, audit=AuditLog(sessions))
    for policy_id in builtin_policies():  # every head present: the read the gateway makes
        text = builtin_path(policy_id).read_text("utf-8")
        version, _ = store.save(text, author="bench", policy_id=policy_id)
        store.publish(policy_id, version.number, by="bench", reason="baseline")
    strict, _ = store.save(STRICT, author="bench", policy_id="default")
    key = AccountStore(sessions).create_key(
        AccountStore(sessions).create_account("bench").id)[1]
    results: dict[str, Any] = {
        "command": "python bench/policy_reload.py", "machine": platform.platform(),
        "python": sys.version.split()[0], "database": "sqlite", "tier": "rules",
        "heads_ms": heads_ms(store, 500)}
    with serve_app(upstream_app(ScriptedUpstream())) as upstream_url:
        latency = {}
        for reload_s in (0.0, 2.0):
            with serve_app(gateway(db, upstream_url, reload_s)) as url, httpx.Client(
                    base_url=url, headers={"authorization": f"Bearer {key}"},
                    timeout=10) as client:
                latency[f"policy_reload_s={reload_s:g}"] = request_ms(client, 300)
                if reload_s == 2.0:
                    results["publish_to_live_s"] = publish_to_live(client, store,
                                                                   strict.number, args.rounds)
        results["request_ms"] = latency
    close_store(sessions)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
