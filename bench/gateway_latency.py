"""Gateway benchmarks: added latency, streamed time-to-first-token, and a sustained load run.

Three processes on loopback: the scripted upstream (``bastion.testing._upstream``), the
gateway (uvicorn, one worker, default classifier on input and output, SQLite audit log), and
this client. The same requests go to the upstream directly and through the gateway; the
difference of the percentiles is the latency the gateway adds. A second gateway with the
``rules`` tier alone (``bastion_rules_tier``) separates what the gateway itself costs from
reading the prompt and the answer with the contextual model.

    .venv/bin/python bench/gateway_latency.py                 # everything, ~2.5 minutes
    .venv/bin/python bench/gateway_latency.py --load-seconds 0   # skip the load run
    .venv/bin/python bench/gateway_latency.py --litellm /tmp/litellm-venv/bin/litellm

With ``--litellm`` the same latency measurement also runs against a LiteLLM proxy (no
guardrails) in front of the same upstream, and the ratio of added latencies is reported.
Results go to ``bench/results/gateway_latency.json`` (or ``--out``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import logging
import os
import platform
import secrets
import shlex
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from bastion.accounts import AccountStore
from bastion.classify._onnx import cores_per_worker
from bastion.store import close_store, open_store

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable

UPSTREAM_CODE = """
import sys, uvicorn
from bastion.testing import ScriptedUpstream, Turn, upstream_app
text = ("Tea is made by pouring hot water over cured leaves of the tea plant. " * 6)[:400]


class Answering(ScriptedUpstream):
    # A fresh answer for every prompt (no verdict cache can answer it) that reads like one: the
    # plain echo is the request's JSON, a fake chat transcript the classifier rightly flags.
    def decide(self, body):
        turn, text = super().decide(body)
        messages = body.get("messages") or []
        if messages and isinstance(messages[-1].get("content"), str):
            text = "Good question. " + messages[-1]["content"].replace("?", ".")
        return turn, text


model = Answering(default=Turn(echo=True))
model.script("stream-slowly", Turn(content=text, chunks=tuple(text[i:i + 4]
             for i in range(0, len(text), 4)), chunk_delay=0.02))
model.requests = _Discard()
uvicorn.run(upstream_app(model), host="127.0.0.1", port=int(sys.argv[1]), log_level="warning",
            access_log=False)
"""
DISCARD = """
class _Discard(list):
    def append(self, item):  # the benchmark sends ~100k requests; keep no history
        pass
"""

_COUNTER = itertools.count()


def body() -> dict[str, Any]:
    """A chat request whose text differs every time, so no verdict cache can answer it."""
    n = next(_COUNTER)
    return {"model": "scripted-upstream",
            "messages": [{"role": "system", "content": "You are a helpful assistant."},
                         {"role": "user", "content": f"How long should I steep green tea? "
                                                     f"Ask number {n}, cup {n * 7 % 13}."}]}

STREAM_BODY = {"model": "scripted-upstream", "stream": True,
               "messages": [{"role": "user", "content": "stream-slowly: tell me about tea"}]}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_up(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=1.0).status_code < 500:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up within {timeout} s")


@contextlib.contextmanager
def process(args: list[str],
            env: dict[str, str] | None = None) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(args, env={**os.environ, **(env or {})}, cwd=ROOT,
                            stdout=subprocess.DEVNULL)
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def gateway_env(upstream: str, db: str, **extra: str) -> dict[str, str]:
    env = {"BASTION_GATEWAY__UPSTREAM__BASE_URL": upstream,
           "BASTION_GATEWAY__DATABASE_URL": db,
           "BASTION_GATEWAY__CLASSIFIER__TIER": "default",
           "BASTION_IDENTITY_SECRET": "bench-identity-secret"}
    env.update({f"BASTION_GATEWAY__{k.upper()}": v for k, v in extra.items()})
    return env


def make_key(db: str) -> str:
    sessions = open_store(db)
    try:
        store = AccountStore(sessions)
        store.create_account("bench", "user")
        return store.create_key("bench")[1]
    finally:
        close_store(sessions)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def summary(values: list[float]) -> dict[str, float]:
    return {"p50_ms": round(pct(values, 0.50) * 1000, 3),
            "p99_ms": round(pct(values, 0.99) * 1000, 3),
            "mean_ms": round(statistics.fmean(values) * 1000, 3), "n": len(values)}


async def timed_posts(url: str, headers: dict[str, str], total: int,
                      concurrency: int) -> tuple[list[float], Counter[str]]:
    """``total`` POSTs with ``concurrency`` in flight; per-request seconds and statuses."""
    times: list[float] = []
    statuses: Counter[str] = Counter()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(headers=headers, limits=limits, timeout=30.0) as client:
        remaining = iter(range(total))

        async def worker() -> None:
            for _ in remaining:
                start = time.perf_counter()
                try:
                    response = await client.post(url, json=body())
                except httpx.TransportError as exc:  # counted and reported, not fatal
                    statuses[type(exc).__name__] += 1
                    continue
                times.append(time.perf_counter() - start)
                statuses[str(response.status_code)] += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return times, statuses


async def latency(targets: dict[str, tuple[str, dict[str, str]]], counts: dict[int, int],
                  rounds: int) -> dict[str, Any]:
    """Per concurrency, each target's latency; targets alternate in rounds to share noise."""
    out: dict[str, Any] = {}
    for concurrency, total in counts.items():
        times: dict[str, list[float]] = {name: [] for name in targets}
        statuses: dict[str, Counter[str]] = {name: Counter() for name in targets}
        for _ in range(rounds):
            for name, (url, headers) in targets.items():
                got, codes = await timed_posts(url, headers, total // rounds, concurrency)
                times[name].extend(got)
                statuses[name].update(codes)
        result: dict[str, dict[str, Any]] = {
            name: {**summary(values), "statuses": dict(statuses[name])}
                  for name, values in times.items()}
        direct = result["direct"]
        for name in targets:
            if name != "direct":
                result[name]["added_p50_ms"] = round(result[name]["p50_ms"] - direct["p50_ms"], 3)
                result[name]["added_p99_ms"] = round(result[name]["p99_ms"] - direct["p99_ms"], 3)
        out[f"concurrency_{concurrency}"] = result
        print(f"c={concurrency}: " + json.dumps(result), flush=True)
    return out


def has_text(line: str) -> bool:
    """True for an SSE line whose chunk carries generated text."""
    if not line.startswith("data: {"):
        return False
    chunk = json.loads(line[6:])
    return any((c.get("delta") or {}).get("content") for c in chunk.get("choices", []))


async def first_token(url: str, headers: dict[str, str], runs: int) -> dict[str, Any]:
    """Seconds to the first content byte and to the end of a streamed answer."""
    firsts: list[float] = []
    totals: list[float] = []
    async with httpx.AsyncClient(headers=headers, timeout=30.0) as client:
        for _ in range(runs):
            start = time.perf_counter()
            first = None
            async with client.stream("POST", url, json=STREAM_BODY) as response:
                async for line in response.aiter_lines():
                    if first is None and has_text(line):
                        first = time.perf_counter() - start
                assert response.status_code == 200, response.status_code
            totals.append(time.perf_counter() - start)
            firsts.append(first if first is not None else totals[-1])
    return {"ttft": summary(firsts), "total": summary(totals)}


class RawConnection:
    """A minimal HTTP/1.1 keep-alive client: the load generator must cost far less CPU than
    the gateway it measures (httpx costs about as much per request as a small server)."""

    def __init__(self, host: str, port: int, path: str, headers: dict[str, str]) -> None:
        self.host, self.port, self.path = host, port, path
        self.head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, payload: dict[str, Any]) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            return await self._post(payload)
        try:
            return await self._post(payload)
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            # The server closed an idle keep-alive connection: resend once on a new one.
            if isinstance(exc, asyncio.IncompleteReadError) and exc.partial:
                raise
            await self.close()
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            return await self._post(payload)

    async def _post(self, payload: dict[str, Any]) -> int:
        assert self.reader is not None
        assert self.writer is not None
        data = json.dumps(payload).encode()
        self.writer.write(f"POST {self.path} HTTP/1.1\r\nhost: {self.host}\r\n{self.head}"
                          f"content-type: application/json\r\ncontent-length: {len(data)}"
                          "\r\n\r\n".encode() + data)
        head = (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        status = int(head.split(" ", 2)[1])
        length = next(int(line.split(":", 1)[1]) for line in head.split("\r\n")
                      if line.lower().startswith("content-length:"))
        await self.reader.readexactly(length)
        return status

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()


async def load(url: str, headers: dict[str, str], rate: float, seconds: float,
               max_in_flight: int) -> dict[str, Any]:
    """Open-loop load: one request every 1/rate s, at most ``max_in_flight`` outstanding.

    A request that would exceed the bound is not sent and is counted as ``skipped_at_bound``
    (the gateway is not keeping up), so the achieved rate is honest.
    """
    parsed = httpx.URL(url)
    idle = [RawConnection(parsed.host, parsed.port or 80, parsed.path, headers)
            for _ in range(max_in_flight)]
    every = list(idle)
    statuses: Counter[str] = Counter()
    times: list[float] = []
    skipped = 0

    async def one(conn: RawConnection) -> None:
        start = time.perf_counter()
        try:
            statuses[str(await conn.post(body()))] += 1
        except (OSError, asyncio.IncompleteReadError, ValueError, StopIteration) as exc:
            statuses[type(exc).__name__] += 1
            await conn.close()
            conn.writer = None
        times.append(time.perf_counter() - start)
        idle.append(conn)

    tasks = []
    begin = time.perf_counter()
    for index in range(int(rate * seconds)):
        delay = begin + index / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        if not idle:
            skipped += 1
            continue
        tasks.append(asyncio.create_task(one(idle.pop())))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - begin
    for conn in every:
        await conn.close()
    sent = len(tasks)
    return {"target_rps": rate, "seconds": seconds, "max_in_flight": max_in_flight,
            "sent": sent, "achieved_rps": round(sent / elapsed, 1),
            "skipped_at_bound": skipped, "statuses": dict(statuses),
            "gateway_5xx": sum(n for code, n in statuses.items() if code.startswith("5")),
            "transport_errors": sum(n for code, n in statuses.items() if not code.isdigit()),
            "latency": summary(times)}


def audit_count(path: str) -> int:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return int(conn.execute("select count(*) from audit_events where type = "
                                "'gateway.request'").fetchone()[0])


def wait_written(path: str, count: int, timeout: float = 60.0) -> int:
    """Until the audit log at ``path`` holds ``count`` gateway requests (every worker writes
    its events in batches, a moment after the answers) or ``timeout`` passes; how many it
    holds. (``/healthz`` no longer tells a caller the audit backlog.)"""
    deadline = time.monotonic() + timeout
    while (written := audit_count(path)) < count and time.monotonic() < deadline:
        time.sleep(0.1)
    return written


@contextlib.contextmanager
def litellm_proxy(binary: str, upstream: str, workdir: str,
                  master_key: str) -> Iterator[str]:
    """LiteLLM's proxy, no guardrails, one worker, its master key as the only credential."""
    port = free_port()
    config = Path(workdir) / "litellm.yaml"
    config.write_text(json.dumps({"model_list": [{"model_name": "scripted-upstream",
                                                  "litellm_params": {
                                                      "model": "openai/scripted-upstream",
                                                      "api_base": upstream,
                                                      "api_key": "none"}}]}))
    with process([binary, "--config", str(config), "--port", str(port), "--host", "127.0.0.1",
                  "--num_workers", "1"],
                 env={"LITELLM_LOG": "ERROR", "LITELLM_MASTER_KEY": master_key}):
        wait_up(f"http://127.0.0.1:{port}/health/liveliness", timeout=120)
        yield f"http://127.0.0.1:{port}/v1"


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    work = tempfile.mkdtemp(prefix="bastion-bench-")
    up_port, gw_port = free_port(), free_port()
    upstream = f"http://127.0.0.1:{up_port}/v1"
    db = f"sqlite:///{work}/gateway.db"
    key = make_key(db)
    auth = {"authorization": f"Bearer {key}"}
    results: dict[str, Any] = {}
    gw_cmd = [PY, "-m", "uvicorn", "bastion.gateway._factory:app_from_env", "--factory",
              "--timeout-keep-alive", "65", "--host", "127.0.0.1", "--port", str(gw_port),
              "--log-level", "warning", "--no-access-log"]
    with process([PY, "-c", DISCARD + UPSTREAM_CODE, str(up_port)]), \
            process(gw_cmd, env=gateway_env(upstream, db)):
        wait_up(f"{upstream}/models")
        gw_root = f"http://127.0.0.1:{gw_port}"
        wait_up(f"{gw_root}/healthz")
        targets = {"direct": (f"{upstream}/chat/completions", {}),
                   "bastion": (f"{gw_root}/v1/chat/completions", auth)}
        with contextlib.ExitStack() as stack:
            # The same gateway with the rules tier alone: what the gateway itself adds, apart
            # from reading the texts with the contextual model.
            rules_port = free_port()
            stack.enter_context(process(
                [*gw_cmd[:-5], "--port", str(rules_port), "--log-level", "warning",
                 "--no-access-log"], env=gateway_env(upstream, db, classifier__tier="rules")))
            wait_up(f"http://127.0.0.1:{rules_port}/healthz")
            targets["bastion_rules_tier"] = (
                f"http://127.0.0.1:{rules_port}/v1/chat/completions", auth)
            if args.litellm:
                master = "sk-" + secrets.token_hex(24)
                lite = stack.enter_context(litellm_proxy(args.litellm, upstream, work, master))
                targets["litellm"] = (f"{lite}/chat/completions",
                                      {"authorization": f"Bearer {master}"})
            await timed_posts(targets["bastion"][0], auth, 300, 4)  # warm-up
            for name, (url, headers) in targets.items():
                await timed_posts(url, headers, 100, 4)
                del name
            results["latency"] = await latency(targets, {1: args.requests_c1,
                                                         50: args.requests_c50}, args.rounds)
        if args.litellm:
            for level in results["latency"].values():
                ours, theirs = level["bastion"], level["litellm"]
                level["ratio_added_p50_litellm_over_bastion"] = round(
                    theirs["added_p50_ms"] / max(ours["added_p50_ms"], 1e-3), 2)
        direct_stream = await first_token(f"{upstream}/chat/completions", {}, args.stream_runs)
        gw_stream = await first_token(f"{gw_root}/v1/chat/completions", auth, args.stream_runs)
        results["streaming"] = {
            "upstream": "4-character chunks every 20 ms (about 50 tokens/s), 400 characters",
            "hold_back": {"window_chars": 48, "tail_chars": 32, "max_hold_s": 1.0},
            "direct": direct_stream, "bastion": gw_stream,
            "added_ttft_p50_ms": round(gw_stream["ttft"]["p50_ms"]
                                       - direct_stream["ttft"]["p50_ms"], 3),
            "added_total_p50_ms": round(gw_stream["total"]["p50_ms"]
                                        - direct_stream["total"]["p50_ms"], 3)}
        small_port = free_port()
        small_cmd = [*gw_cmd[:-5], "--port", str(small_port), "--log-level", "warning",
                     "--no-access-log"]
        with process(small_cmd, env=gateway_env(upstream, db, stream__window_chars="16",
                                                 stream__tail_chars="8")):
            wait_up(f"http://127.0.0.1:{small_port}/healthz")
            small = await first_token(f"http://127.0.0.1:{small_port}/v1/chat/completions",
                                      auth, args.stream_runs)
        results["streaming"]["small_window"] = {
            "hold_back": {"window_chars": 16, "tail_chars": 8, "max_hold_s": 1.0},
            "bastion": small, "added_ttft_p50_ms": round(small["ttft"]["p50_ms"]
                                                         - direct_stream["ttft"]["p50_ms"], 3)}
        print("streaming: " + json.dumps(results["streaming"]), flush=True)
        if args.load_seconds > 0:
            load_db = f"{work}/load.db"
            load_key = make_key(f"sqlite:///{load_db}")
            load_port = free_port()
            load_cmd = [*gw_cmd[:-5], "--port", str(load_port), "--log-level", "warning",
                        "--no-access-log", "--workers", str(args.load_workers)]
            load_env, several = gateway_env(upstream, f"sqlite:///{load_db}"), {}
            if args.load_workers > 1:
                # As docs/monitoring.md and `bastion gateway run --workers` set several workers
                # up: detectors off in the workers and one watcher beside them; each worker's
                # model gets its share of the cores.
                load_env["BASTION_GATEWAY__MONITOR__DETECT"] = "false"
                load_env["BASTION_THREADS"] = str(cores_per_worker(args.load_workers))
                several = {"threads_per_worker": int(load_env["BASTION_THREADS"]),
                           "detectors": "one 'bastion monitor watch' process"}
            with process(load_cmd, env=load_env), contextlib.ExitStack() as watcher:
                load_root = f"http://127.0.0.1:{load_port}"
                wait_up(f"{load_root}/healthz")
                if several:
                    watcher.enter_context(process(
                        [str(Path(PY).with_name("bastion")), "monitor", "watch", "--db",
                         f"sqlite:///{load_db}"], env={"BASTION_IDENTITY_SECRET": "bench"}))
                _, warm = await timed_posts(f"{load_root}/v1/chat/completions",
                                            {"authorization": f"Bearer {load_key}"}, 200,
                                            4)  # warm-up
                before = wait_written(load_db, sum(n for code, n in warm.items()
                                                   if code.isdigit()))
                run = await load(f"{load_root}/v1/chat/completions",
                                 {"authorization": f"Bearer {load_key}"}, args.rate,
                                 args.load_seconds, args.max_in_flight)
                answered = sum(n for code, n in run["statuses"].items() if code.isdigit())
                written = wait_written(load_db, before + answered) - before
                run["audit_events_written"] = written
                run["audit_events_lost"] = answered - written
                run["gateway_workers"] = args.load_workers
                run.update(several)
                results["load"] = run
                print("load: " + json.dumps(run), flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--requests-c1", type=int, default=2000)
    parser.add_argument("--requests-c50", type=int, default=6000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--stream-runs", type=int, default=20)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--load-seconds", type=float, default=60.0)
    parser.add_argument("--max-in-flight", type=int, default=64)
    parser.add_argument("--load-workers", type=int, default=1,
                        help="Gateway worker processes for the load run.")
    parser.add_argument("--litellm", default=None, help="Path of a 'litellm' binary.")
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/gateway_latency.json")
    args = parser.parse_args()
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one INFO line per request otherwise
    started, load_before = time.time(), os.getloadavg()
    results = asyncio.run(main_async(args))
    record = {"command": " ".join(shlex.quote(a) for a in [".venv/bin/python",
                                                           "bench/gateway_latency.py",
                                                           *sys.argv[1:]]),
              "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                          "platform": platform.platform(),
                          "loadavg_1m_before_after": [round(load_before[0], 2),
                                                      round(os.getloadavg()[0], 2)]},
              "setup": "upstream, gateway (1 uvicorn worker, default tier on input and output, "
                       "SQLite audit log) and client are separate processes on loopback",
              "duration_s": round(time.time() - started, 1), **results}
    if args.litellm:  # the peer's version, read from the environment its binary runs in
        record["litellm_version"] = subprocess.run(
            [str(Path(args.litellm).parent / "python"), "-c",
             "import importlib.metadata as m; print(m.version('litellm'))"],
            capture_output=True, text=True, check=False).stdout.strip() or None
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
