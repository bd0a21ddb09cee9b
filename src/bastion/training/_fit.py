"""Fine-tune the encoder end to end: one linear head per category plus the general head, and
a contrastive "does this text match this description" objective for the policy reader.

This module imports only torch, transformers, safetensors and numpy (no Bastion code), so the
same file runs on a CPU here or on a lent GPU machine as ``python _fit.py --table ... --out ...``.

Inputs (written by :mod:`bastion.training._prepare`): ``table.jsonl.gz`` with one row per text
(``text``, ``labels`` with -1 for masked heads, ``weight``, ``split``, ``topic``) and the base
encoder folder (``config.json``, ``model.safetensors``, ``tokenizer.json``).

Model choice is made on the validation split only: every half epoch the mean AUPRC of the heads
on validation rows is computed, and the best checkpoint of the best configuration is kept.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import random
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from tokenizers import Tokenizer
from torch import nn
from transformers import BertConfig, BertModel

MAX_TOKENS = 128
TAU = 0.05


class Classifier(nn.Module):
    """The encoder, mean pooling, and a linear layer of one logit per head."""

    def __init__(self, config: BertConfig, heads: int) -> None:
        super().__init__()
        self.encoder = BertModel(config, add_pooling_layer=False)
        self.heads = nn.Linear(config.hidden_size, heads)
        self.dropout = nn.Dropout(0.1)

    def pooled(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        hidden = self.encoder(input_ids=ids, attention_mask=mask).last_hidden_state
        weights = mask.unsqueeze(-1).to(hidden.dtype)
        return (hidden * weights).sum(1) / weights.sum(1).clamp(min=1.0)

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        pooled = self.pooled(ids, mask)
        logits = self.heads(self.dropout(pooled))
        embedding = nn.functional.normalize(pooled, dim=-1)
        return logits, embedding


def average_precision(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the precision-recall curve (step-wise, as scikit-learn computes it)."""
    order = np.argsort(-scores, kind="stable")
    hits = labels[order] == 1
    positives = hits.sum()
    if positives == 0:
        return float("nan")
    precision = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    return float((precision * hits).sum() / positives)


def load_table(path: Path) -> list[dict[str, Any]]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def encode(tokenizer: Tokenizer, texts: list[str]) -> list[list[int]]:
    tokenizer.enable_truncation(MAX_TOKENS)
    tokenizer.no_padding()
    return [e.ids for e in tokenizer.encode_batch(texts)]


def pad(seqs: list[list[int]], device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(s) for s in seqs)
    ids = torch.zeros((len(seqs), width), dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, : len(s)] = torch.tensor(s)
        mask[i, : len(s)] = 1
    return ids.to(device), mask.to(device)


def batches(order: list[int], lengths: list[int], size: int, rng: random.Random) -> list[list[int]]:
    """Length-bucketed batches: shuffle, sort within chunks of 50 batches, shuffle batches."""
    rng.shuffle(order)
    chunk = size * 50
    out = []
    for start in range(0, len(order), chunk):
        part = sorted(order[start:start + chunk], key=lambda i: lengths[i])
        out += [part[i:i + size] for i in range(0, len(part), size)]
    rng.shuffle(out)
    return out


@torch.no_grad()
def predict(model: Classifier, seqs: list[list[int]], device: torch.device,
            size: int = 256) -> tuple[np.ndarray, np.ndarray]:
    model.eval()
    order = sorted(range(len(seqs)), key=lambda i: len(seqs[i]))
    logits = np.zeros((len(seqs), model.heads.out_features), dtype=np.float32)
    embeds = np.zeros((len(seqs), model.heads.in_features), dtype=np.float32)
    for start in range(0, len(order), size):
        idx = order[start:start + size]
        ids, mask = pad([seqs[i] for i in idx], device)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            out, emb = model(ids, mask)
        logits[idx] = out.float().cpu().numpy()
        embeds[idx] = emb.float().cpu().numpy()
    model.train()
    return logits, embeds


def evaluate(logits: np.ndarray, labels: np.ndarray, heads: list[str]) -> dict[str, float]:
    out = {}
    for j, head in enumerate(heads):
        keep = labels[:, j] >= 0
        if keep.sum() and (labels[keep, j] == 1).sum() >= 5:
            out[head] = average_precision(labels[keep, j], logits[keep, j])
    out["mean"] = float(np.nanmean([v for k, v in out.items()]))
    return out


def train(args: argparse.Namespace, config: dict[str, Any], rows: list[dict[str, Any]],
          heads: list[str], seqs: list[list[int]], topic_seqs: dict[str, list[int]],
          device: torch.device) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    torch.manual_seed(config["seed"])
    rng = random.Random(config["seed"])  # noqa: S311 - shuffling, not secrets
    bert = BertConfig.from_pretrained(str(args.base))
    model = Classifier(bert, len(heads))
    state = load_file(str(args.base / "model.safetensors"))
    state = {k.removeprefix("bert.").removeprefix("0.auto_model."): v.float()
             for k, v in state.items()}
    missing, _ = model.encoder.load_state_dict(state, strict=False)
    assert not [m for m in missing if "pooler" not in m], missing
    model.to(device)

    labels = np.array([r["labels"] for r in rows], dtype=np.float32)
    weights = np.array([r["weight"] for r in rows], dtype=np.float32)
    train_idx = [i for i, r in enumerate(rows) if r["split"] == "train"]
    val_idx = [i for i, r in enumerate(rows) if r["split"] == "val"]
    pos = (labels[train_idx] == 1).sum(0)
    neg = (labels[train_idx] == 0).sum(0)
    pos_weight = torch.tensor(np.clip(np.sqrt(neg / np.maximum(pos, 1)), 1.0, 8.0),
                              device=device)
    topic_rows = [i for i in train_idx if rows[i]["topic"]]

    lengths = [len(s) for s in seqs]
    epochs = config["epochs"]
    optimiser, schedule = optimiser_for(
        model, config, math.ceil(len(train_idx) / config["batch"]) * epochs)
    best: tuple[float, dict[str, torch.Tensor] | None, dict[str, Any]] = (-1.0, None, {})
    history = []
    step = 0
    val_labels = labels[val_idx]
    started = time.time()
    for epoch in range(epochs):
        if time.time() - started > config.get("budget_s", 1e9):
            print(json.dumps({"config": config["name"], "stopped": "time budget"}), flush=True)
            break
        plan = batches(list(train_idx), lengths, config["batch"], rng)
        half = len(plan) // 2
        for b, idx in enumerate(plan):
            loss = head_loss(model, [seqs[i] for i in idx], labels[idx], weights[idx],
                             pos_weight, device)
            if topic_rows and config["contrastive"] > 0:
                loss = loss + config["contrastive"] * contrastive(
                    model, rows, seqs, topic_seqs, rng.sample(topic_rows, config["batch"]),
                    device)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimiser.step()
            schedule.step()
            optimiser.zero_grad(set_to_none=True)
            step += 1
            if b + 1 in (half, len(plan)):
                logits_val, _ = predict(model, [seqs[i] for i in val_idx], device)
                metrics = evaluate(logits_val, val_labels, heads)
                metrics |= {"epoch": epoch + (0.5 if b + 1 == half else 1.0), "step": step,
                            "loss": float(loss.item()), "seconds": time.time() - started}
                history.append(metrics)
                print(json.dumps({"config": config["name"], **metrics}), flush=True)
                if metrics["mean"] > best[0]:
                    snapshot = {k: v.detach().to("cpu", torch.float16).clone()
                                for k, v in model.state_dict().items()}
                    best = (metrics["mean"], snapshot, metrics)
    assert best[1] is not None
    return best[1], {"config": config, "best": best[2], "history": history}


def optimiser_for(model: Classifier, config: dict[str, Any], total: int
                  ) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LambdaLR]:
    """AdamW (encoder and heads at their own rates), linear warm-up over 6 %, linear decay."""
    encoder = [p for n, p in model.named_parameters() if "encoder" in n]
    optimiser = torch.optim.AdamW([
        {"params": encoder, "lr": config["lr"]},
        {"params": model.heads.parameters(), "lr": config["head_lr"]},
    ], weight_decay=0.01)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min(1.0, s / (0.06 * total)) * max(0.0, (total - s) / total))
    return optimiser, schedule


def head_loss(model: Classifier, seqs: list[list[int]], labels: np.ndarray,
              weights: np.ndarray, pos_weight: torch.Tensor, device: torch.device
              ) -> torch.Tensor:
    """Masked, weighted binary cross-entropy of every head (label -1 = not known)."""
    ids, mask = pad(seqs, device)
    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
        logits, _ = model(ids, mask)
    return labelled_loss(logits, labels, weights, pos_weight)


def labelled_loss(logits: torch.Tensor, labels: np.ndarray, weights: np.ndarray,
                  pos_weight: torch.Tensor) -> torch.Tensor:
    """The loss of :func:`head_loss` for logits already computed."""
    device = logits.device
    target = torch.tensor(labels, device=device)
    weight = torch.tensor(weights, device=device).unsqueeze(1)
    known = (target >= 0).float()
    loss_matrix = nn.functional.binary_cross_entropy_with_logits(
        logits.float(), target.clamp(min=0), pos_weight=pos_weight, reduction="none")
    return (loss_matrix * known * weight).sum() / (known * weight).sum().clamp(min=1.0)


def contrastive(model: Classifier, rows: list[dict[str, Any]], seqs: list[list[int]],
                topic_seqs: dict[str, list[int]], idx: list[int],
                device: torch.device) -> torch.Tensor:
    """In-batch InfoNCE between texts and the description of what they ask for; texts that
    share a description are not each other's negatives."""
    topics = [rows[i]["topic"] for i in idx]
    names = sorted(set(topics))
    ids, mask = pad([seqs[i] for i in idx], device)
    tids, tmask = pad([topic_seqs[n] for n in names], device)
    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
        _, text_emb = model(ids, mask)
        _, topic_emb = model(tids, tmask)
    sims = text_emb.float() @ topic_emb.float().T / TAU
    target = torch.tensor([names.index(t) for t in topics], device=device)
    return nn.functional.cross_entropy(sims, target)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--table", type=Path, required=True)
    parser.add_argument("--base", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--configs", type=str, required=True, help="JSON list of configs")
    parser.add_argument("--limit", type=int, default=0, help="rows (smoke test)")
    args = parser.parse_args()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    payload = load_table(args.table)
    heads, rows = payload[0]["heads"], payload[1:]
    if args.limit:
        rows = rows[: args.limit]
    tokenizer = Tokenizer.from_file(str(args.base / "tokenizer.json"))
    started = time.time()
    seqs = encode(tokenizer, [r["text"] for r in rows])
    topics = sorted({r["topic"] for r in rows if r["topic"]})
    topic_seqs = dict(zip(topics, encode(tokenizer, topics), strict=True))
    results = []
    best_state, best_score = None, -1.0
    for config in json.loads(args.configs):
        state, report = train(args, config, rows, heads, seqs, topic_seqs, device)
        results.append(report)
        if report["best"]["mean"] > best_score:
            best_state, best_score = state, report["best"]["mean"]
    assert best_state is not None
    args.out.mkdir(parents=True, exist_ok=True)
    save_file(best_state, str(args.out / "model.safetensors"))
    chosen = max(results, key=lambda r: r["best"]["mean"])
    summary = {"heads": heads, "table_rows": len(rows), "chosen": chosen["config"],
               "results": results,
               "seconds": time.time() - started, "device": torch.cuda.get_device_name()
               if device.type == "cuda" else "cpu", "torch": torch.__version__}
    (args.out / "fit.json").write_text(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
