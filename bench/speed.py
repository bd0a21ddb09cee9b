"""Speed of the profiles and tiers next to peers, measured in one run.

Usage::

    python bench/speed.py [--tiers default,fast,embedded,minilm] [--json]

Peers: ``minilm`` (frozen all-MiniLM-L6-v2 in torch fp32 with linear heads, the baseline a
contextual model must beat on speed) and alt-profanity-check (a bag-of-words SVM).

For each tier, in its own fresh subprocess (so memory and imports do not leak between them):

* throughput: texts per second classifying one batch of short texts (median of several runs);
* latency: p50 and p99 of classifying one text at a time;
* long texts: texts per second on 5,000-character documents (windowed);
* real chatbot prompts (the scan's set below, when ../shared is there): texts per second
  classifying all of them in one call, for the profiles and their halves;
* peak RSS of the worker process.

Cold start is the wall time of a separate fresh ``python -c`` that imports the tier, loads it
and returns the first verdict (interpreter start-up included).

Whole-process scan: for the ``default`` and ``fast`` profiles, the wall time of
``bastion scan`` over 2,801 real chatbot prompts (ToxicChat's human-annotated train split,
measurement-only data from ../shared: median 63 characters, a tenth over 600), cold start and
output included, as texts per second (median of three runs). Our tiers classify against the
built-in ``default`` policy (12 categories); profanity-check scores one category. Texts are
our own benign prompts (scripts/benign_prompts.txt), so the benchmark needs no datasets.
Results go to ``bench/results/speed.json``.

Run it on a quiet machine. Other work on the other core halves what this one runs: the
model's one-core pace (:func:`machine_reference`) read 11,348 word pieces/s alone and 9,492
beside one busy Python loop, and an earlier run with other processes at work read about 6,000
all through; the load average and that pace, before and after, are recorded with the figures,
and a warning is printed when the machine was not idle at the start.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "speed.json"
#: ``default`` is the shipped profile (cascade: rules, then the contextual ``embedded`` tier);
#: ``fast`` is the bulk pre-filter (rules, then ``static`` WordLlama heads); ``rules``,
#: ``embedded`` and ``static`` are the halves measured alone.
TIERS = ("default", "fast", "rules", "embedded", "static", "minilm", "profanity-check")
#: Batch size and repeats per tier (MiniLM is a transformer: fewer texts keep the run short).
PLAN = {"default": (1000, 5, 200), "fast": (2000, 7, 300), "rules": (5000, 7, 300),
        "embedded": (1000, 5, 200), "static": (2000, 7, 300), "minilm": (500, 3, 60),
        "profanity-check": (2000, 7, 300)}

LOADERS = {
    "default": "from bastion.classify import get_classifier\n"
               "from bastion.policy import load_policy\n"
               "p = load_policy('default'); c = get_classifier('default')\n"
               "run = lambda texts: c.classify(texts, p)\n",
    "fast": "from bastion.classify import get_classifier\n"
            "from bastion.policy import load_policy\n"
            "p = load_policy('default'); c = get_classifier('fast')\n"
            "run = lambda texts: c.classify(texts, p)\n",
    "rules": "from bastion.classify._rules import RulesClassifier as C\n"
             "from bastion.policy import load_policy\n"
             "p = load_policy('default'); c = C()\n"
             "run = lambda texts: c.classify(texts, p)\n",
    "embedded": "from bastion.classify._embedded import EmbeddedClassifier as C\n"
                "from bastion.policy import load_policy\n"
                "p = load_policy('default'); c = C()\n"
                "run = lambda texts: c.classify(texts, p)\n",
    "static": "from bastion.classify._static import StaticClassifier as C\n"
              "from bastion.policy import load_policy\n"
              "p = load_policy('default'); c = C()\n"
              "run = lambda texts: c.classify(texts, p)\n",
    "minilm": "from bastion.classify._static import MiniLMClassifier as C\n"
              "from bastion.policy import load_policy\n"
              "p = load_policy('default'); c = C()\n"
              "run = lambda texts: c.classify(texts, p)\n",
    "profanity-check": "from profanity_check import predict_prob\n"
                       "run = lambda texts: predict_prob(texts)\n",
}


def short_texts(n: int, start: int = 0) -> list[str]:
    """``n`` short prompts: our benign prompts, numbered so no two calls repeat a string.

    Distinct strings matter: the default cascade caches verdicts by content hash, and a
    benchmark that re-sends one batch would measure the cache.
    """
    lines = (ROOT / "scripts" / "benign_prompts.txt").read_text(encoding="utf-8").splitlines()
    base = [x for x in lines if x and not x.startswith("#") and ": " not in x[:12]]
    return [f"{base[i % len(base)]} ({i})" for i in range(start, start + n)]


def long_texts(n: int, chars: int = 5000) -> list[str]:
    """``n`` documents of about ``chars`` characters each."""
    pool = short_texts(400)
    out = []
    for i in range(n):
        text, j = "", i
        while len(text) < chars:
            text += pool[j % len(pool)] + " "
            j += 7
        out.append(text[:chars])
    return out


def _load(tier: str) -> Callable[[list[str]], Any]:
    scope: dict[str, Any] = {}
    exec(LOADERS[tier], scope)  # the fixed loader snippets above, shared with cold_start
    run: Callable[[list[str]], Any] = scope["run"]
    return run


def worker(tier: str) -> dict[str, Any]:
    """Measure one tier in this process."""
    run = _load(tier)
    batch, repeats, singles = PLAN[tier]
    run(short_texts(50, start=10**7))  # warm-up: lazy imports, the policy plan
    rates, cpu_rates = [], []
    for r in range(repeats):
        texts = short_texts(batch, start=r * batch)
        start, cpu = time.perf_counter(), time.process_time()
        run(texts)
        rates.append(batch / (time.perf_counter() - start))
        cpu_rates.append(batch / (time.process_time() - cpu))
    latencies = []
    for text in short_texts(singles, start=(repeats + 1) * batch):
        start = time.perf_counter()
        run([text])
        latencies.append((time.perf_counter() - start) * 1000)
    latencies.sort()
    docs = long_texts(max(batch // 20, 10))
    start = time.perf_counter()
    run(docs)
    long_rate = len(docs) / (time.perf_counter() - start)
    return {
        "batch": batch, "runs": repeats,
        "throughput_texts_per_s": round(statistics.median(rates), 1),
        # Texts per second of this process's CPU time (all its threads): what a busy machine
        # cannot take away. The same run gave 12,300 and 21,900 wall texts/s for 'fast' with
        # other work on the two cores and without; the CPU figure moves far less.
        "cpu_texts_per_s": round(statistics.median(cpu_rates), 1),
        "chatbot_prompts": chatbot_rates(run, REAL_RUNS.get(tier, 0)),
        "latency_p50_ms": round(latencies[len(latencies) // 2], 3),
        "latency_p99_ms": round(latencies[min(len(latencies) - 1,
                                              int(len(latencies) * 0.99))], 3),
        "long_5000_char_texts_per_s": round(long_rate, 1),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


#: In-process runs over the real chatbot prompts, per tier (the rest skip them).
REAL_RUNS = {"default": 3, "fast": 7, "rules": 7, "static": 7}


def chatbot_prompts() -> list[str]:
    """The real chatbot prompts of :data:`CHATBOT_PROMPTS`, or none when ../shared is absent."""
    if not CHATBOT_PROMPTS.is_file():
        return []
    return [json.loads(line)["text"] for line in
            CHATBOT_PROMPTS.read_text(encoding="utf-8").splitlines() if line.strip()]


def chatbot_rates(run: Callable[[list[str]], Any], runs: int) -> dict[str, Any]:
    """Texts per second classifying all the real chatbot prompts in one call, in this process.

    Each run numbers the prompts anew (so the verdict cache cannot answer) and the worker runs
    with the model's kept outputs off (``BASTION_MODEL_CACHE=0``, see :func:`measure`), so the
    first run meets every word for the first time and later runs have only seen the words
    before: the first is reported alone (``first_run``) and the median of the others as
    ``texts_per_s``.
    """
    texts = chatbot_prompts()
    if not runs or not texts:
        return {"skipped": "not measured for this tier" if texts else
                f"{CHATBOT_PROMPTS} not found"}
    rates = []
    for r in range(runs):
        batch = [f"{text} ({r})" for text in texts]
        start = time.perf_counter()
        run(batch)
        rates.append(len(batch) / (time.perf_counter() - start))
    return {"texts": len(texts), "runs": runs, "first_run_texts_per_s": round(rates[0], 1),
            "texts_per_s": round(statistics.median(rates[1:] or rates), 1)}


def cold_start(tier: str) -> float:
    """Seconds for a fresh interpreter to import, load and return the first verdict."""
    code = LOADERS[tier] + "run(['hello there'])\n"
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, capture_output=True)
    return round(time.perf_counter() - start, 3)


def measure(tier: str) -> dict[str, Any]:
    """Run the worker for ``tier`` in a subprocess, then time its cold start."""
    # The model's kept outputs off: a later run would find the windows of long prompts (all but
    # the one holding the run's number) already read, and report a cache, not the model.
    proc = subprocess.run([sys.executable, __file__, "--worker", tier], check=False, cwd=ROOT,
                          capture_output=True, text=True,
                          env={**os.environ, "BASTION_MODEL_CACHE": "0"})
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-1:] or ["no output"]
        return {"error": f"worker failed: {tail[0]}"}
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    result["cold_start_s"] = statistics.median(cold_start(tier) for _ in range(3))
    return result


CHATBOT_PROMPTS = ROOT.parent / "shared" / "datasets" / "toxicchat" / \
    "toxicchat0124_human_train.jsonl"
SCAN_PROFILES = ("default", "fast")


def scan_rate(profile: str) -> dict[str, Any]:
    """Texts per second of a whole ``bastion scan`` process over real chatbot prompts."""
    import tempfile  # noqa: PLC0415

    texts = chatbot_prompts()
    if not texts:
        return {"skipped": f"{CHATBOT_PROMPTS} not found"}
    bastion = Path(sys.executable).with_name("bastion")
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "prompts.jsonl"
        lines = [json.dumps({"text": text}) for text in texts]
        source.write_text("\n".join(lines) + "\n", encoding="utf-8")
        walls = []
        for run in range(3):
            out = Path(tmp) / f"out{run}.jsonl"
            start = time.perf_counter()
            subprocess.run([str(bastion), "scan", str(source), "-o", str(out), "-t", profile],
                           check=False, cwd=ROOT, capture_output=True)
            walls.append(time.perf_counter() - start)
            if sum(1 for _ in out.open(encoding="utf-8")) != len(lines):
                return {"error": f"scan wrote the wrong number of rows to {out}"}
    wall = statistics.median(walls)
    return {"texts": len(lines), "wall_s": round(wall, 2),
            "texts_per_s": round(len(lines) / wall, 1)}


def table(results: dict[str, Any]) -> str:
    """A fixed-width table, one row per tier."""
    cols = ("throughput_texts_per_s", "latency_p50_ms", "latency_p99_ms",
            "long_5000_char_texts_per_s", "cold_start_s", "peak_rss_mib")
    heads = ("texts/s", "p50 ms", "p99 ms", "long/s", "cold s", "RSS MiB")
    lines = [f"{'tier':16s}" + "".join(f"{h:>10s}" for h in heads)]
    for tier, row in results.items():
        if "error" in row:
            lines.append(f"{tier:16s}  {row['error']}")
            continue
        lines.append(f"{tier:16s}" + "".join(f"{row[c]:>10.1f}" if row[c] >= 10
                                              else f"{row[c]:>10.3f}" for c in cols))
    return "\n".join(lines)


def ratios(results: dict[str, Any]) -> dict[str, float]:
    """Throughput and p50 latency of each tier relative to each peer, from the same run."""
    out = {}
    for peer_name in ("minilm", "profanity-check"):
        peer = results.get(peer_name, {})
        if not peer or "error" in peer:
            continue
        for tier, row in results.items():
            if tier == peer_name or "error" in row:
                continue
            key = peer_name.replace("-", "_")
            out[f"{tier}_throughput_vs_{key}"] = round(
                row["throughput_texts_per_s"] / peer["throughput_texts_per_s"], 3)
            out[f"{tier}_p50_latency_vs_{key}"] = round(
                row["latency_p50_ms"] / peer["latency_p50_ms"], 3)
    return out


def machine_reference() -> int:
    """Word pieces per second one core reads through the shipped contextual model on a fixed
    batch (16 texts of 24 pieces), median of 30 calls: how fast this machine runs the model
    today. The same code has run a third slower on some days than on others here, so figures
    of different days compare only through this."""
    import numpy as np  # noqa: PLC0415

    from bastion.classify._onnx import artifact_dir, one_core_session  # noqa: PLC0415

    session = one_core_session(artifact_dir() / "model.onnx", "contextual model", "reinstall")
    ids = np.random.default_rng(0).integers(1000, 20000, (16, 24)).astype(np.int64)
    feed = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
    session.run(None, feed)
    times = []
    for _ in range(30):
        start = time.perf_counter()
        session.run(None, feed)
        times.append(time.perf_counter() - start)
    return round(ids.size / statistics.median(times))


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description="Speed of the embedded tiers and a peer.")
    parser.add_argument("--tiers", default=",".join(TIERS))
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--worker", choices=TIERS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker)))
        return 0
    reference = [machine_reference()]  # before the run, and after it (below)
    load = [round(os.getloadavg()[0], 2)]
    if load[0] > 0.5:
        print(f"warning: load average {load[0]:g} at the start: other work shares the cores, "
              "and every figure of this run will read slower than the code runs",
              file=sys.stderr)
    results = {tier: measure(tier) for tier in args.tiers.split(",")}
    scans = {p: scan_rate(p) for p in SCAN_PROFILES if p in args.tiers.split(",")}
    reference.append(machine_reference())
    load.append(round(os.getloadavg()[0], 2))
    report = {"machine": {"python": platform.python_version(), "cpu": platform.processor()
                          or platform.machine(), "cpus": _cpus(),
                          "model_pieces_per_s_one_core_before_after": reference,
                          # above the cores' count, other work shared them: wall figures fall
                          "loadavg_1m_before_after": load},
              "command": "python bench/speed.py --tiers " + args.tiers,
              "date": time.strftime("%Y-%m-%d"),
              "tiers": results, "scan_chatbot_prompts": scans, "ratios": ratios(results)}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=1) if args.json else
          table(results) + "\n" + json.dumps(report["ratios"], indent=1))
    return 0


def _cpus() -> int:
    import os  # noqa: PLC0415

    return len(os.sched_getaffinity(0))


if __name__ == "__main__":
    raise SystemExit(main())
