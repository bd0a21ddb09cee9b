"""Findings list and priority queue with 50,000 findings on a real PostgreSQL.

    python bench/findings_scale.py [--rows 50000] [--url postgresql://...]

Starts a throwaway PostgreSQL (tests/services.py) unless --url is given, migrates it, bulk-loads
findings (random severities, states, reporters, engagements, targets and ages), runs ANALYZE,
then times the store's own list and queue calls (the server-side work of the routes: SQL and
row conversion, no HTTP): first pages, pages deep in the keyset, filtered and scoped views; and
the dedupe candidates of a finding (random unit vectors stand in for embeddings; the first
call loads every vector into the in-memory index, later calls only newer rows).
Writes medians and p95 to bench/results/findings_scale.json. Goal: every list and queue median
under 300 ms.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import insert, text

from bastion.classify import embedder_id
from bastion.findings import (
    LEVELS,
    RANK,
    STATES,
    Filters,
    FindingRow,
    FindingStore,
    Page,
    Scope,
    due,
)
from bastion.store import close_store, open_store

OUT = Path(__file__).parent / "results" / "findings_scale.json"
OPEN = ("new", "triaging", "needs-info", "accepted", "fixing", "regressed")


def _rows(count: int, rng: random.Random, now: datetime) -> list[dict[str, Any]]:
    vectors = np.random.default_rng(rng.randint(0, 2**31)).standard_normal(
        (count, 2, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=2, keepdims=True)
    model = embedder_id()  # as if the shipped model made them, so dedupe compares them
    rows = []
    for n in range(count):
        level = rng.choice(LEVELS)
        state = rng.choice(STATES)
        created = now - timedelta(minutes=rng.randint(0, 60 * 24 * 365))
        rows.append({
            "title": f"finding {n}", "target": f"system-{rng.randint(0, 199)}",
            "engagement": f"engagement-{rng.randint(0, 49)}", "transcript": [
                {"role": "user", "content": f"attack {n}"},
                {"role": "assistant", "content": f"answer {n}"}],
            "steps": "", "impact": "", "sev_impact": 3, "sev_repro": 3, "sev_breadth": 2,
            "sev_effort": 2, "severity": level, "severity_rank": RANK[level], "state": state,
            "is_open": state in OPEN, "reporter": f"member-{rng.randint(0, 999)}",
            "transcript_hash": f"{n:064x}", "source": "bench", "created_at": created,
            "prompt_vec": vectors[n, 0].tobytes(), "output_vec": vectors[n, 1].tobytes(),
            "vec_model": model,
            "updated_at": created, "due_at": due(level, created, state), "reopened": 0})
    return rows


def _load(store: FindingStore, count: int) -> None:
    rng = random.Random(50_000)
    now = datetime.now(UTC)
    with store.sessions.begin() as session:
        for start in range(0, count, 5000):
            session.execute(insert(FindingRow), _rows(min(5000, count - start), rng, now))
    with store.sessions() as session:
        session.execute(text("ANALYZE findings"))
        session.commit()


def _time(call: Callable[[], Page], repeats: int) -> dict[str, float]:
    call()  # warm the connection pool and the plan cache
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        page = call()
        samples.append((time.perf_counter() - started) * 1000)
    assert page.items, "a measured page must not be empty"
    samples.sort()
    return {"median_ms": round(statistics.median(samples), 2),
            "p95_ms": round(samples[int(0.95 * (len(samples) - 1))], 2),
            "rows": len(page.items)}


def _deep(fetch: Callable[..., Page], pages: int, **options: Any) -> str:
    after = None
    for _ in range(pages):
        after = fetch(after=after, limit=50, **options).next
    assert after is not None
    return after


def measure_dedupe(store: FindingStore, repeats: int) -> dict[str, float]:
    """Candidates of the newest finding: the cold first call and the warm median."""
    newest = store.listing(limit=1).items[0].id
    started = time.perf_counter()
    store.candidates(newest)
    cold = (time.perf_counter() - started) * 1000
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        store.candidates(newest)
        samples.append((time.perf_counter() - started) * 1000)
    return {"first_call_ms": round(cold, 1),
            "median_ms": round(statistics.median(samples), 2)}


def measure(store: FindingStore, repeats: int) -> dict[str, dict[str, float]]:
    """Median and p95 of each view."""
    deep_list = _deep(store.listing, 200)
    deep_queue = _deep(store.queue, 200)
    developer = Scope(targets=("system-7", "system-42", "system-99"))
    red_teamer = Scope(reporter="member-17", engagements=("engagement-3",))
    views: dict[str, Callable[[], Page]] = {
        "list first page": lambda: store.listing(limit=50),
        "list page 201 (keyset)": lambda: store.listing(after=deep_list, limit=50),
        "list state=new": lambda: store.listing(filters=Filters(states=("new",)), limit=50),
        "list developer scope (3 systems)": lambda: store.listing(scope=developer, limit=50),
        "list red-teamer scope (own + engagement)": lambda: store.listing(scope=red_teamer,
                                                                           limit=50),
        "queue first page": lambda: store.queue(limit=50),
        "queue page 201 (keyset)": lambda: store.queue(after=deep_queue, limit=50),
        "queue developer scope (3 systems)": lambda: store.queue(scope=developer, limit=50),
        "queue critical only": lambda: store.queue(filters=Filters(severities=("critical",)),
                                                   limit=50),
    }
    return {name: _time(call, repeats) for name, call in views.items()}


def main() -> None:
    """Load, measure, write the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--url", help="an empty PostgreSQL database (default: a throwaway one)")
    args = parser.parse_args()
    if args.url:
        result = _run(args.url, args)
    else:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from tests.services import postgres_server  # noqa: PLC0415 - only without --url

        with postgres_server() as url:
            result = _run(url, args)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


def _run(url: str, args: argparse.Namespace) -> dict[str, Any]:
    sessions = open_store(url)
    try:
        store = FindingStore(sessions)
        started = time.perf_counter()
        _load(store, args.rows)
        loaded = time.perf_counter() - started
        with sessions() as session:
            version = session.execute(text("SHOW server_version")).scalar_one()
        timings = measure(store, args.repeats)
        dedupe = measure_dedupe(store, args.repeats)
    finally:
        close_store(sessions)
    worst = max(t["median_ms"] for t in timings.values())
    return {"what": "server time of FindingStore.listing / .queue (SQL + row conversion)",
            "command": "python bench/findings_scale.py", "findings": args.rows,
            "postgresql": version, "page_size": 50, "repeats": args.repeats,
            "load_seconds": round(loaded, 1), "views": timings,
            "dedupe_candidates": dedupe,
            "worst_median_ms": worst, "goal_ms": 300, "goal_met": worst < 300}


if __name__ == "__main__":
    main()
