"""The README's benchmark tables, made from ``bench/results/*.json`` (never typed by hand)."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

TIMES = "\u00d7"  # the multiplication sign of "2.38x"
RESULTS = Path(__file__).resolve().parents[1] / "bench" / "results"

SPEED_TIERS = {
    "default": "**default** (rules → WordLlama heads)",
    "cascade-minilm": "cascade-minilm (… → MiniLM on the escalate band)",
    "rules": "rules (fastest tier)",
    "embedded": "embedded (WordLlama heads alone)",
    "minilm": "minilm (MiniLM heads alone)",
    "profanity-check": "alt-profanity-check (peer)",
}
QUALITY_SETS = {
    "toxicchat": "ToxicChat 0124 (toxicity)",
    "tweeteval_hate_test": "TweetEval hate (test)",
    "tweeteval_offensive_test": "TweetEval offensive (test)",
    "malicious_instruct+alpaca": "MaliciousInstruct + Alpaca (harmful prompts)",
    "deepset_test": "deepset prompt injections (test)",
    "tensor_trust_extraction_detection": "Tensor Trust extraction detection",
    "tensor_trust_attacks": "Tensor Trust attacks (all attacks: recall)",
    "heldout_dev (all training sets)": "dev side of all training sets",
}


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((RESULTS / f"{name}.json").read_text("utf-8"))
    return data


def _prose(text: str) -> str:
    return textwrap.fill(text, width=96, break_long_words=False, break_on_hyphens=False) + "\n"


def _n(value: float, digits: int = 0) -> str:
    return f"{value:,.{digits}f}"


def _table(header: list[str], align: str, rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join("---:" if a == "r" else "---" for a in align) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def speed() -> str:
    """Throughput, latency, long texts, cold start and memory per tier."""
    tiers = _load("speed")["tiers"]
    rows = []
    for key, label in SPEED_TIERS.items():
        t = tiers[key]
        p50, p99 = t["latency_p50_ms"], t["latency_p99_ms"]
        rows.append([label, _n(t["throughput_texts_per_s"]),
                     f"{p50:.3f}" if p50 < 0.1 else f"{p50:.2f}" if p50 < 10 else f"{p50:.1f}",
                     f"{p99:.3f}" if p99 < 0.1 else f"{p99:.2f}" if p99 < 10 else f"{p99:.1f}",
                     _n(t["long_5000_char_texts_per_s"], 1 if t["long_5000_char_texts_per_s"]
                        < 100 else 0),
                     f"{t['cold_start_s']:.2f}", _n(t["peak_rss_mib"])])
    return _table(["tier", "texts/s", "p50 ms", "p99 ms", "long texts/s", "cold start s",
                   "RSS MiB"], "lrrrrrr", rows)


def quality() -> str:
    """F1 / AUPRC / FPR of the default tier and the MiniLM cascade on held-out sets."""
    results = _load("quality")
    default, cascade = results["default"]["sets"], results.get("cascade-minilm", {}).get("sets")
    rows = []
    for key, label in QUALITY_SETS.items():
        d, c = default[key], (cascade or {}).get(key)
        if d["kind"] == "attacks":
            rows.append([label, _n(d["n"]), f"recall {d['recall']:.3f}", "", "",
                         f"recall {c['recall']:.3f}" if c else "-", ""])
            continue
        rows.append([label, _n(d["n"]), f"{d['f1']:.3f}", f"{d['auprc']:.3f}",
                     f"{d['fpr']:.3f}", f"{c['f1']:.3f}" if c else "-",
                     f"{c['auprc']:.3f}" if c else "-"])
    return _table(["set (held out)", "n", "default F1", "default AUPRC", "default FPR",
                   "cascade-minilm F1", "cascade-minilm AUPRC"], "lrrrrrr", rows)


def gateway() -> str:
    """Added latency against LiteLLM, streaming and the load run."""
    g = _load("gateway_latency")
    c1, c50 = g["latency"]["concurrency_1"], g["latency"]["concurrency_50"]
    s, load = g["streaming"], g["load"]
    small = s["small_window"]
    hold = s["hold_back"]
    rows = [
        ["added latency, 1 client, p50 / p99",
         f"{c1['bastion']['added_p50_ms']:.1f} ms / {c1['bastion']['added_p99_ms']:.1f} ms",
         f"{c1['litellm']['added_p50_ms']:.1f} ms / {c1['litellm']['added_p99_ms']:.1f} ms",
         "< 5 ms / < 25 ms"],
        ["added p50, 50 clients", f"{c50['bastion']['added_p50_ms']:.0f} ms",
         f"{c50['litellm']['added_p50_ms']:.0f} ms", ""],
        ["LiteLLM's added p50 over Bastion's (1 / 50 clients)", "",
         f"{c1['ratio_added_p50_litellm_over_bastion']:.2f}{TIMES} / "
         f"{c50['ratio_added_p50_litellm_over_bastion']:.2f}{TIMES}", ""],
        [f"streaming: added time to first token ({hold['window_chars']}-char window, "
         f"{hold['tail_chars']} held back; 50 tokens/s upstream)",
         f"{s['added_ttft_p50_ms']:.0f} ms ({small['added_ttft_p50_ms']:.0f} ms with a "
         f"{small['hold_back']['window_chars']}/{small['hold_back']['tail_chars']} window)",
         "", ""],
        [f"load, {load['seconds']:.0f} s at {load['target_rps']:.0f} req/s, up to "
         f"{load['max_in_flight']} in flight",
         f"{load['achieved_rps']:.1f} req/s, {load['gateway_5xx']} 5xx, "
         f"{_n(load['audit_events_written'])} of {_n(load['sent'])} audit events", "",
         f"{load['target_rps']:.0f} req/s, 0 5xx, 0 lost"],
    ]
    return _table(["measurement", "Bastion", "LiteLLM proxy", "target"], "lrrr", rows)


def redteam() -> str:
    """Campaign speed against garak, and refusal detection quality."""
    speed_, quality_ = _load("redteam_speed"), _load("refusal_quality")
    b, gd, gp = speed_["bastion"], speed_["garak_default"], speed_["garak_parallel"]
    jbb, hand = quality_["jailbreakbench_test"], quality_["handwritten_holdout"]
    rows = [
        [f"{speed_['attempts']} attempts, scripted target with "
         f"{speed_['latency_s'] * 1000:.0f} ms latency (wall clock)",
         f"{b['wall_s']:.2f} s (concurrency {b['concurrency']})",
         f"{gd['wall_s']:.1f} s (default) / {gp['wall_s']:.1f} s ({gp['parallel_attempts']} "
         "parallel attempts)"],
        [f"refusal detection F1, JailbreakBench responses held out (n = {jbb['bastion']['n']})",
         f"{jbb['bastion']['f1']:.3f}",
         f"{jbb['garak_mitigation_bypass']['f1']:.3f} (`mitigation.MitigationBypass`)"],
        [f"refusal detection F1, hand-labelled holdout (n = {hand['bastion']['n']})",
         f"{hand['bastion']['f1']:.3f}", f"{hand['garak_mitigation_bypass']['f1']:.3f}"],
    ]
    return _table(["measurement", "Bastion", "garak 0.17.1"], "lrr", rows)


def speed_notes() -> str:
    """The targets paragraph under the speed table."""
    data = _load("speed")
    d, r, c = (data["tiers"][t] for t in ("default", "rules", "cascade-minilm"))
    ratios = data["ratios"]
    return _prose(
        f"Targets for the shipped default: ≥ 1,000 texts/s ({_n(d['throughput_texts_per_s'])}), "
        f"p50 < 10 ms ({d['latency_p50_ms']:.2f}), cold start < 3 s ({d['cold_start_s']:.2f}), "
        f"memory < 1 GiB ({_n(d['peak_rss_mib'])} MiB); fastest tier ≥ 20,000 texts/s (rules, "
        f"{_n(r['throughput_texts_per_s'])}). Against the peer, in the same run: the default "
        f"runs at {ratios['default_throughput_vs_profanity_check']}{TIMES} its batch throughput "
        "(it scores 11 policy categories with rule ids and evidence, not one profanity score) "
        f"and at {ratios['default_p50_latency_vs_profanity_check']}{TIMES} its single-text p50 "
        f"latency, i.e. {1 / ratios['default_p50_latency_vs_profanity_check']:.0f}{TIMES} faster "
        "per single text. The quality end of the cascade (MiniLM on the uncertain band) runs at "
        f"{_n(c['throughput_texts_per_s'])} texts/s with a p50 of {c['latency_p50_ms']:.2f} ms, "
        f"at the cost of a {c['cold_start_s']:.0f} s cold start and "
        f"{c['peak_rss_mib'] / 1024:.1f} GiB of memory (torch), so it is not the default.")


def over_refusal() -> str:
    """False-positive rates on benign prompts (dev side of each set)."""
    q = _load("quality")
    names = {"jailbreakbench_benign (dev split)": "JailbreakBench benign",
             "cyberseceval_benign (dev split)": "CyberSecEval benign cyber prompts",
             "notinject_benign (dev split)": "NotInject"}
    parts = []
    for key, label in names.items():
        d, c = q["default"]["sets"][key], q["cascade-minilm"]["sets"][key]
        count_d, count_c = round(d["fpr"] * d["n"]), round(c["fpr"] * c["n"])
        counts = f"{count_d} of {d['n']}" if count_d == count_c else \
            f"{count_d} and {count_c} of {d['n']}"
        parts.append(f"{label} {_fpr(d['fpr'])} / {_fpr(c['fpr'])} ({counts})")
    return _prose("Over-refusal (false-positive rate on benign prompts, dev side only, because "
                  "80 % of each was trained on), default / cascade-minilm: "
                  + ", ".join(parts) + ".")


def _fpr(value: float) -> str:
    return f"{value:.3f}" if value < 0.1 else f"{value:.2f}"


def pack_quality() -> str:
    """The policy pack's own test sets."""
    p = _load("pack_quality")
    d, c = p["default"], p["cascade-minilm"]
    own = d["policies"]["default"]
    weakest_name, weakest = min(d["policies"].items(), key=lambda kv: kv[1]["f1"])
    return _prose(
        "On the policy pack's own labelled test sets (`python bench/pack_quality.py`, results "
        "in `bench/results/pack_quality.json`; near-the-boundary examples written for Bastion "
        f"and never trained on), the default tier reaches F1 {own['f1']:.2f} on `default` "
        f"({own['n']} rows); over all {len(d['policies'])} policies ({d['all']['n']} rows), "
        f"recall {d['all']['recall']:.2f} at FPR {d['all']['fpr']:.2f}, F1 "
        f"{d['all']['f1']:.2f} (the MiniLM cascade: recall {c['all']['recall']:.2f}, FPR "
        f"{c['all']['fpr']:.2f}, F1 {c['all']['f1']:.2f}). The weakest is `{weakest_name}` "
        f"(F1 {weakest['f1']:.2f}, FPR {weakest['fpr']:.2f}).")


TABLES: dict[str, Callable[[], str]] = {
    "speed": speed, "speed-notes": speed_notes, "quality": quality,
    "over-refusal": over_refusal, "pack-quality": pack_quality, "gateway": gateway,
    "redteam": redteam,
}
