"""Web app page times: login (argon2id), the application queue, engagements, the start page.

The app runs on a real loopback server (uvicorn, one worker, SQLite in WAL mode) with
``--applications`` applications and ``--engagements`` engagements of five members each; the
client sends ``--repeat`` requests per page, one at a time, and reports the median and p95 of
the wall time per request (client on the same machine, so it includes HTTP on loopback).

    PYTHONPATH=src .venv/bin/python bench/web_pages.py          # ~30 s
Results go to ``bench/results/web_pages.json`` (or ``--out``).
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bastion.monitor import AuditLog
from bastion.network import DOCUMENTS, NetworkStore
from bastion.store import close_store, open_store
from bastion.testing import serve_app
from bastion.web import WebSettings, create_web_app

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "benchmark passphrase 1"


def _seed(ctx: Any, applications: int, engagements: int) -> None:
    store = ctx.service(NetworkStore.of)
    for i in range(applications):
        store.apply(username=f"applicant{i}", full_name=f"Applicant {i}",
                    email=f"a{i}@example.org", expertise=["security", "languages"],
                    languages=["English"], links=["https://example.org/cv"],
                    conflicts="none", motivation="Experienced red-teamer. " * 20)
    now = datetime.now(UTC)
    for e in range(engagements):
        eng = store.create_engagement(
            name=f"engagement {e}", description="bench", models=["m-*"], routes=["chat"],
            categories_in=["INJ"], categories_out=[], rules="", by="bench",
            starts_at=now - timedelta(minutes=1), ends_at=now + timedelta(days=1),
            requests_per_minute=None, tokens_per_minute=None)
        for m in range(5):
            user = ctx.users.create(f"rt{e}-{m}", "red-teamer", by="bench")
            for doc in DOCUMENTS:
                store.accept(user.id, doc.name, doc.version)
            store.join(eng.id, user)


def _times(call: Any, repeat: int) -> dict[str, float]:
    call()  # warm-up
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = call()
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code in (200, 303), response.status_code
    samples.sort()
    return {"median_ms": round(statistics.median(samples), 2),
            "p95_ms": round(samples[int(0.95 * (len(samples) - 1))], 2), "n": len(samples)}


def main() -> None:
    """Seed, serve, time each page, write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applications", type=int, default=1000)
    parser.add_argument("--engagements", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/web_pages.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        sessions = open_store(url)
        app = create_web_app(WebSettings(database_url=url, login_attempts_per_minute=100_000),
                             sessions=sessions, audit=AuditLog(sessions))
        ctx = app.state.web
        ctx.users.create("admin", "admin", password=PASSWORD, by="bench")
        started = time.perf_counter()
        _seed(ctx, args.applications, args.engagements)
        seed_s = time.perf_counter() - started
        results: dict[str, Any] = {}
        with serve_app(app) as base, httpx.Client(base_url=base.removesuffix("/v1")) as client:
            page = client.get("/login").text
            token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)  # type: ignore[union-attr]

            pre = client.cookies["bastion_pre"]

            def login() -> httpx.Response:
                client.cookies.clear()  # log in afresh each time, from the same login page
                client.cookies.set("bastion_pre", pre)
                return client.post("/login", data={"username": "admin", "password": PASSWORD,
                                                   "csrf_token": token})

            results["login"] = _times(login, args.repeat)
            for name, path in (("home", "/"), ("application_queue", "/network/applications"),
                               ("engagements", "/network/engagements")):
                results[name] = _times(lambda path=path: client.get(path), args.repeat)
        close_store(sessions)
    report = {
        "command": "PYTHONPATH=src .venv/bin/python bench/web_pages.py "
                   f"--applications {args.applications} --engagements {args.engagements} "
                   f"--repeat {args.repeat}",
        "machine": {"platform": platform.platform(), "python": platform.python_version()},
        "setup": {"database": "sqlite (WAL)", "applications": args.applications,
                  "engagements": args.engagements, "members_per_engagement": 5,
                  "seed_s": round(seed_s, 1)},
        "pages": results,
    }
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report["pages"], indent=2))


if __name__ == "__main__":
    main()
