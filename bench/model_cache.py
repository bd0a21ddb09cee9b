"""What keeping the contextual model's recent outputs saves on a gateway's input check.

A chat request's input check classifies each message and, when there are several, their join
(``bastion.gateway._guard.Guard.check``), each read whole and sentence by sentence. The system
prompt comes with every request: its verdict is already kept by the default cascade, but its
sentences come back inside the join and are read again, unless the model keeps the outputs of
the word pieces it read lately (``BASTION_MODEL_CACHE``, :mod:`bastion.classify._onnx`).

For two system prompts (the latency bench's one line, and a support bot's 1,100 characters
written for this bench), the same requests (a system prompt and a different benign question each
time, the speed bench's numbered prompts from ``scripts/benign_prompts.txt``, so no whole text
repeats) are checked in process through the ``default`` profile with the outputs kept and with
nothing kept, alternating in blocks so drift on the machine falls on both alike. Reported: the
median and p99 milliseconds of one check, and their ratio.

Run: ``python bench/model_cache.py [--requests 200]``; results in
``bench/results/model_cache.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

from speed import short_texts  # the speed bench's numbered benign prompts

from bastion.classify import get_classifier
from bastion.classify._onnx import CACHE_TEXTS, load_model
from bastion.policy import load_policy

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "model_cache.json"
BLOCK = 20
SHORT_SYSTEM = "You are a helpful assistant."
SUPPORT_SYSTEM = (
    "You are Sunny, the customer support assistant of Brightside Energy, a home electricity "
    "and gas supplier. Answer questions about bills, tariffs, meter readings, moving home, "
    "payment plans and the mobile app. Be friendly, short and precise; use plain words and "
    "no jargon. When a customer asks about a specific account, ask for the account number "
    "and the postcode before you say anything about it, and never read out full card or bank "
    "details. If a customer says they cannot afford their bills, explain the payment plans "
    "and the hardship fund, and offer to pass them to a specialist. If a customer smells gas, "
    "tell them to leave the building and call the emergency line at once; do not try to "
    "troubleshoot. Do not give legal or financial advice, and do not talk about competitors' "
    "prices. If you do not know an answer, say so and offer a callback from the team. Keep "
    "each answer under 120 words unless the customer asks for detail. Reply in the language "
    "the customer writes in. Today's promotions: a 5 % discount on the fixed tariff for new "
    "customers who sign up online, and free smart meter installation in most areas.")


def measure(system: str, requests: int) -> dict[str, object]:
    """Milliseconds per input check with the outputs kept and with nothing kept."""
    classifier, policy = get_classifier("default"), load_policy("default")
    recent = load_model().recent
    asked = iter(short_texts(2 * requests + 2 * BLOCK, start=len(system)))
    times: dict[str, list[float]] = {"kept": [], "none kept": []}
    for block in range(2 * requests // BLOCK):
        mode = "kept" if block % 2 else "none kept"
        recent.size = CACHE_TEXTS if mode == "kept" else 0
        recent.clear()
        classifier.classify([system, "warm-up question"], policy)  # as in a running gateway
        for _ in range(BLOCK):
            user = next(asked)
            start = time.perf_counter()
            classifier.classify([system, user, f"{system}\n{user}"], policy)
            times[mode].append((time.perf_counter() - start) * 1000)
    recent.size = CACHE_TEXTS
    out: dict[str, object] = {"system_prompt_chars": len(system)}
    for mode, found in times.items():
        found.sort()
        out[mode] = {"requests": len(found), "p50_ms": round(statistics.median(found), 2),
                     "p99_ms": round(found[min(len(found) - 1, int(len(found) * 0.99))], 2)}
    kept, none = out["kept"], out["none kept"]
    out["p50_ratio_none_over_kept"] = round(none["p50_ms"] / kept["p50_ms"], 2)  # type: ignore[index]
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=200, help="checks per mode and prompt")
    args = parser.parse_args()
    results = {
        "command": "python bench/model_cache.py",
        "machine": {"python": platform.python_version(),
                    "cpus": len(os.sched_getaffinity(0))},
        "kept_texts": CACHE_TEXTS,
        "short_system_prompt": measure(SHORT_SYSTEM, args.requests),
        "support_system_prompt": measure(SUPPORT_SYSTEM, args.requests),
    }
    RESULTS.write_text(json.dumps(results, indent=1) + "\n", "utf-8")
    print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
