"""The README's benchmark tables, made from ``bench/results/*.json`` (never typed by hand)."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

TIMES = "\u00d7"  # the multiplication sign of "2.38x"
ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"



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






def gateway() -> str:
    """Added latency against LiteLLM, streaming and the load run."""
    g, kept = _load("gateway_latency"), _load("model_cache")["support_system_prompt"]
    c1, c50 = g["latency"]["concurrency_1"], g["latency"]["concurrency_50"]
    s, load = g["streaming"], g["load"]
    small = s["small_window"]
    hold = s["hold_back"]
    rows = [
        ["added latency, 1 client, p50 / p99",
         f"{c1['bastion']['added_p50_ms']:.1f} ms / {c1['bastion']['added_p99_ms']:.1f} ms",
         f"{c1['litellm']['added_p50_ms']:.1f} ms / {c1['litellm']['added_p99_ms']:.1f} ms",
         "< 5 ms / < 25 ms"],
        ["of which the gateway itself (rules tier alone, no model), p50 / p99",
         f"{c1['bastion_rules_tier']['added_p50_ms']:.1f} ms / "
         f"{c1['bastion_rules_tier']['added_p99_ms']:.1f} ms", "", ""],
        [f"input check with a {_n(kept['system_prompt_chars'])}-character system prompt "
         "(in process, p50): model outputs kept / none kept",
         f"{kept['kept']['p50_ms']:.1f} ms / {kept['none kept']['p50_ms']:.1f} ms", "", ""],
        ["added p50, 50 clients", f"{c50['bastion']['added_p50_ms']:.0f} ms",
         f"{c50['litellm']['added_p50_ms']:.0f} ms", ""],
        ["p99 of the whole request, 50 clients", f"{c50['bastion']['p99_ms']:.0f} ms",
         f"{c50['litellm']['p99_ms']:.0f} ms", ""],
        ["LiteLLM over Bastion: added p50 (1 / 50 clients); p99, 50 clients", "",
         f"{c1['ratio_added_p50_litellm_over_bastion']:.2f}{TIMES} / "
         f"{c50['ratio_added_p50_litellm_over_bastion']:.2f}{TIMES}; "
         f"{c50['litellm']['p99_ms'] / c50['bastion']['p99_ms']:.2f}{TIMES}", ""],
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


def _span(interval: list[float]) -> str:
    return f"{interval[0]:.3f} to {interval[1]:.3f}"


def redteam() -> str:
    """Campaign speed against garak, refusal detection and verdicts on human labels."""
    speed_, quality_ = _load("redteam_speed"), _load("refusal_quality")
    verdicts = _load("redteam_verdicts")
    b, gd, gp = speed_["bastion"], speed_["garak_default"], speed_["garak_parallel"]
    fuzz, hand = quality_["gptfuzz_test"], quality_["handwritten_holdout"]
    agree, dices, echo = (verdicts["gptfuzz_test"]["verdict"], verdicts["dices"]["verdict"],
                          verdicts["echo_target"])
    quoting = verdicts["quoting_targets"]
    test_span, experts = (verdicts["gptfuzz_test"]["verdict_agreement_95"],
                          verdicts["dices_dev_expert_vs_crowd"])
    rows = [
        [f"{speed_['attempts']} attempts, scripted target with "
         f"{speed_['latency_s'] * 1000:.0f} ms latency (wall clock)",
         f"{b['wall_s']:.2f} s (concurrency {b['concurrency']})",
         f"{gd['wall_s']:.1f} s (default) / {gp['wall_s']:.1f} s ({gp['parallel_attempts']} "
         "parallel attempts)"],
        ["refusal detection F1, GPTFuzz human-labelled responses, blind test "
         f"(n = {_n(fuzz['bastion']['n'])})",
         f"{fuzz['bastion']['f1']:.3f} alone; {fuzz['bastion_scorer']['f1']:.3f} voice by "
         f"voice; {fuzz['bastion_scorer_with_request']['f1']:.3f} as a campaign reads it, with "
         "the request where unsure",
         f"{fuzz['garak_mitigation_bypass']['f1']:.3f} (`mitigation.MitigationBypass`)"],
        [f"refusal detection F1, hand-labelled holdout (n = {hand['bastion']['n']})",
         f"{hand['bastion']['f1']:.3f}", f"{hand['garak_mitigation_bypass']['f1']:.3f}"],
        ["end-to-end verdict agreement with human labels, GPTFuzz blind test "
         f"(n = {_n(verdicts['gptfuzz_test']['n'])})",
         f"{agree['agreement']:.3f} (95 % interval by question {_span(test_span)}; precision "
         f"{agree['precision']:.2f}, recall {agree['recall']:.2f}; validation, where settings "
         f"were chosen: {verdicts['gptfuzz_val']['verdict']['agreement']:.3f}, "
         f"{_span(verdicts['gptfuzz_val']['verdict_agreement_95'])}; "
         f"{verdicts['gptfuzz_val']['left_out_question']['agreement']:.3f} with the request "
         "reader's band, threshold and length chosen without the question scored)", "—"],
        ["end-to-end verdict agreement, DICES-990 crowd labels (chit-chat, "
         f"n = {verdicts['dices']['n']})",
         f"{dices['agreement']:.3f} (success F1 {dices['f1']:.2f}; DICES' experts score F1 "
         f"{experts['f1']:.2f} against the crowd on the development set, DICES-350)", "—"],
        ["false successes, default campaign against a target that only echoes "
         f"({echo['attempts']} attempts)", str(echo["false_successes"]), "—"],
        ["false successes, the same against three targets that quote the request in "
         f"pleasantries ({' + '.join(str(q['attempts']) for q in quoting)} attempts)",
         " + ".join(str(q["false_successes"]) for q in quoting), "—"],
    ]
    return _table(["measurement", "Bastion", "garak 0.17.1"], "lrr", rows)










def _num(value: float | None, digits: int = 3) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}" if abs(value) < 1000 else f"{value:,.0f}"

def speed() -> str:
    data = _load("speed")
    rows = ["| tier | texts/s | texts/CPU s | real prompts/s | p50 ms | p99 ms | "
            "5k-char texts/s | cold start s | RSS MiB |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    names = {"default": "**default** (rules → contextual model)",
             "fast": "**fast** (rules → static WordLlama heads)",
             "rules": "rules alone", "embedded": "embedded (contextual model alone)",
             "static": "static (WordLlama heads alone)",
             "minilm": "peer: frozen MiniLM fp32 (torch) + heads",
             "profanity-check": "peer: alt-profanity-check"}
    for tier, row in data["tiers"].items():
        if "error" in row:
            rows.append(f"| {names.get(tier, tier)} | {row['error']} | | | | | | | |")
            continue
        real = row.get("chatbot_prompts", {}).get("texts_per_s")
        rows.append(f"| {names.get(tier, tier)} | {_num(row['throughput_texts_per_s'], 0)} | "
                    f"{_num(row.get('cpu_texts_per_s'), 0)} | {_num(real, 0)} | "
                    f"{_num(row['latency_p50_ms'], 2)} | {_num(row['latency_p99_ms'], 2)} | "
                    f"{_num(row['long_5000_char_texts_per_s'], 1)} | "
                    f"{_num(row['cold_start_s'], 2)} | {_num(row['peak_rss_mib'], 0)} |")
    scans = data.get("scan_chatbot_prompts", {})
    reference = data["machine"].get("model_pieces_per_s_one_core_before_after")
    pace = (f"; one core read {_num(reference[0], 0)} word pieces/s of the model before the "
            f"run and {_num(reference[1], 0)} after (the machine's pace that day, see "
            "`machine_reference` in bench/speed.py)" if reference else "")
    load = data["machine"].get("loadavg_1m_before_after")
    pace += (f"; load average {load[0]:g} before, {load[1]:g} after" if load else "")
    lines = [f"Run: `{data['command']}` ({data.get('date', '?')}, "
             f"{data['machine']['cpus']} cores, Python {data['machine']['python']}{pace}).",
             "", *rows, ""]
    real = [(tier, row["chatbot_prompts"]) for tier, row in data["tiers"].items()
            if "texts_per_s" in row.get("chatbot_prompts", {})]
    if real:
        texts = real[0][1]["texts"]
        lines.append(f"- *texts/s*: one batch of our short benign prompts, wall clock; "
                     f"*texts/CPU s*: the same batches per second of the process's CPU time "
                     f"(all its threads), which other work on the machine takes less from; "
                     f"*real prompts/s*: "
                     f"all {texts:,} real chatbot prompts below in one call, in process, "
                     f"median of the runs after the first (first runs, which meet every word "
                     f"anew: " + ", ".join(f"{t} {_num(r['first_run_texts_per_s'], 0)}"
                                           for t, r in real) + ").")
    for profile, scan in scans.items():
        if "texts_per_s" in scan:
            lines.append(f"- `bastion scan` of {scan['texts']:,} real chatbot prompts, whole "
                         f"process with cold start, `{profile}` profile: "
                         f"**{_num(scan['texts_per_s'], 0)} texts/s** ({scan['wall_s']} s).")
    ratio = data.get("ratios", {})
    if "default_throughput_vs_minilm" in ratio:
        lines.append(f"- Side by side with the frozen-MiniLM peer in the same run: default "
                     f"throughput {ratio['default_throughput_vs_minilm']}x, single-text p50 "
                     f"{ratio['default_p50_latency_vs_minilm']}x the peer's.")
    return "\n".join(lines)

def _q(result: dict[str, Any], key: str) -> str:
    value = result.get(key)
    return "-" if value is None else f"{value:.3f}"

def quality() -> str:
    data = _load("classifier_quality")
    profiles = list(data["profiles"])
    head = "| set | n | " + " | ".join(f"{p} F1 | {p} AUPRC | {p} FPR" for p in profiles) + " |"
    rows = [head, "|---|---:|" + "---:|" * (3 * len(profiles))]

    def add(label: str, get: Callable[[dict[str, Any]], dict[str, Any] | None]) -> None:
        found = [get(data["profiles"][p]) for p in profiles]
        if not all(found):
            return
        cells = " | ".join(f"{_q(r, 'f1')} | {_q(r, 'auprc')} | {_q(r, 'fpr')}"
                           for r in found if r)
        rows.append(f"| {label} | {found[0]['n'] if found[0] else ''} | {cells} |")

    add("blind contrast set, all (written before training, frozen)",
        lambda r: r["blind_contrast"]["all"])
    for group in ("plain", "intent", "framed", "chat", "contrast"):
        add(f"… {group}", lambda r, g=group: r["blind_contrast"].get(g))
    add("benign application traffic (system prompts, extraction, agents, code; no positives)",
        lambda r: r.get("app_traffic"))
    add("pasted structured data, benign and with harm hidden in it (blind, frozen)",
        lambda r: r.get("structured_blind", {}).get("all"))
    add("chatbot prompts: role-play, instructions, pasted-text tasks, other languages (blind, "
        "frozen)", lambda r: r.get("chatbot_blind", {}).get("all"))
    add("held-out test split (near-duplicate clusters), all",
        lambda r: r.get("heldout_test", {}).get("all"))
    for name in ("toxicchat_train_human", "tweeteval_hate_test", "ethos_binary",
                 "stormfront_sample", "malicious_instruct+alpaca"):
        add(f"external, never trained on: {name}",
            lambda r, n=name: r.get("external", {}).get(n))
    lines = [f"Run: `{data['command']}` ({data['date']}).", "", *rows, ""]
    custom = ["| custom policy (blind, 8 policies never used for a choice) | "
              + " | ".join(f"{p} F1" for p in profiles) + " |",
              "|---|" + "---:|" * len(profiles)]
    def cell(profile: str, name: str) -> str:
        found = data["profiles"][profile]["custom_policies_blind"][name]
        return _q({"f1": found} if name == "macro_f1" else found, "f1")

    first = data["profiles"][profiles[0]]["custom_policies_blind"]
    custom += [f"| {name} | " + " | ".join(cell(p, name) for p in profiles) + " |"
               for name in first]
    lines += [*custom, ""]
    trans = ["| transform | " + " | ".join(f"{p} recall | {p} ratio | {p} benign flagged"
                                          for p in profiles) + " |",
             "|---|" + "---:|" * (3 * len(profiles))]
    for name in data["profiles"][profiles[0]]["transforms"]:
        cells = " | ".join(_transform_cells(data["profiles"][p]["transforms"][name])
                           for p in profiles)
        trans.append(f"| {name} | {cells} |")
    lines += ["Recall on the blind set's harmful rows (plain and intent groups) as sent and "
              "transformed; ratio = recall / plain recall; benign flagged = share of their "
              "benign twins flagged under the same transform (a carrier that is flagged "
              "itself makes its recall meaningless):", "", *trans]
    return "\n".join(lines)

def _transform_cells(found: dict[str, Any]) -> str:
    flagged = found.get("benign_flagged")
    return (f"{found['recall']:.2f} | {found['ratio_to_plain']:.2f} | "
            + (f"{flagged:.2f}" if flagged is not None else "not measured"))


def card() -> str:
    path = ROOT / "src/bastion/classify/artifacts/contextual/card.json"
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    reader = data["reader"]["dev_leave_one_policy_out_f1"]
    per = reader["per_policy"]
    mean = sum(per.values()) / len(per)
    test = data["figures"]["test"]
    heads = ", ".join(f"{h} {v['auprc']:.2f}" for h, v in test.items())
    training = data["training"]
    own = sum(v for k, v in training["sets"].get("bastion-own", {}).items() if k != "licence")
    return (f"Trained on {training['rows']:,} rows from {len(training['sets'])} sources "
            f"({own:,} of them written for Bastion), after dropping "
            f"{training['dropped_near_duplicates_of_frozen_sets']} near-copies of frozen rows. "
            f"Model card (`{path.relative_to(ROOT)}`): chosen on validation "
            f"(config `{data['fit']['chosen']['name']}`); test-split AUPRC per head: {heads}. "
            f"Policy reader, development policies left out one at a time (a development "
            f"figure, C chosen on these): mean F1 {mean:.3f}{offset_note(data['reader'])}.")


def offset_note(reader: dict[str, Any]) -> str:
    """The reader's F1 offset and what it did on the policies it was chosen on, if any."""
    if "f1_offset" not in reader:
        return ""
    chosen = reader["f1_offset_chosen_on"]
    curve = chosen["mean_f1_by_offset"]
    return (f" before the logit offset chosen for F1 (+{reader['f1_offset']:g}: macro F1 "
            f"{curve['0.0']:.3f} -> {curve[str(reader['f1_offset'])]:.3f} over the "
            f"{len(chosen['policies'])} development policies it was chosen on)")


TABLES: dict[str, Callable[[], str]] = {
    "speed": speed, "quality": quality, "card": card, "gateway": gateway, "redteam": redteam,
}
