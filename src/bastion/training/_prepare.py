"""Build the training table: load rows, drop near-duplicates of every frozen evaluation set,
split by near-duplicate clusters, and write ``table.jsonl.gz`` plus the base encoder files
that :mod:`bastion.training._fit` reads.
"""

from __future__ import annotations

import gzip
import json
import shutil
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from bastion.models import sha256_file
from bastion.training._heldout import text_digest
from bastion.training._sources import HEADS, LICENCES, Row, jsonl, load_all
from bastion.training._split import Split, assign, near_duplicates

#: A row positive for one category is a weak negative for the others (categories overlap).
OTHER_CATEGORY_WEIGHT = 0.3


def frozen_texts(paths: Iterable[Path]) -> list[str]:
    """Texts of every frozen evaluation file (JSONL rows and the pack's test sets)."""
    texts: list[str] = []
    for path in paths:
        texts += [str(r["text"]) for r in jsonl(path)]
    return texts


def head_topics() -> dict[str, str]:
    """A description per built-in head (the pack category's name and its policy's summary),
    the target of the contrastive objective for rows positive on that head."""
    from bastion.policy import builtin_policies, load_policy  # noqa: PLC0415

    out: dict[str, str] = {}
    for policy_id in builtin_policies():
        policy = load_policy(policy_id)
        for category in policy.categories:
            if category.head and category.head not in out and policy.description:
                out[category.head] = f"{category.name}: {policy.description}"
    return out


def label_vector(row: Row) -> list[int]:
    """Labels in ``HEADS`` order, -1 where masked; a categorised harmful row is a negative
    (weighted down in the loss through a second entry) for the other content heads."""
    return [row.labels.get(head, -1) for head in HEADS]


def held_out(rows: list[Row], digests: set[str]) -> int:
    """Fix the split of every row whose text digest is frozen as held out to ``test`` (its
    near-duplicate cluster follows), so that a table prepared again never trains on the rows
    the installed model is measured on; return how many rows that is. A row another rule put
    in another split is an error."""
    count = 0
    for row in rows:
        if text_digest(row.text) not in digests:
            continue
        if row.split not in (None, "test"):
            raise ValueError(f"{row.text[:60]!r} ({row.source}) is a frozen held-out text, but "
                             f"its source puts it in {row.split!r}; drop it from one of them")
        row.split = "test"
        count += 1
    return count


def prepare(data: Path, own: Path, scripts: Path, frozen: list[Path], base: Path,
            out: Path, heldout: set[str] | None = None) -> dict[str, Any]:
    """Write the table and the base encoder to ``out``; return a summary for the model card.
    ``heldout``: digests of texts that must stay in the test split (:func:`held_out`)."""
    rows = load_all(data, own, scripts)
    probes = frozen_texts(frozen)
    dropped = near_duplicates([r.text for r in rows], probes)
    kept = [r for r, drop in zip(rows, dropped, strict=True) if not drop]
    frozen_in_test = held_out(kept, heldout or set())
    splits = assign([r.text for r in kept], [r.group for r in kept],
                    fixed=[r.split for r in kept])
    topics = head_topics()
    for row in kept:
        if not row.topic:
            head = next((h for h in HEADS[1:] if row.labels.get(h) == 1 and h in topics), None)
            row.topic = topics[head] if head else ""
    out.mkdir(parents=True, exist_ok=True)
    counts: Counter[tuple[str, Split]] = Counter()
    with gzip.open(out / "table.jsonl.gz", "wt", encoding="utf-8") as handle:
        handle.write(json.dumps({"heads": list(HEADS)}) + "\n")
        for row, split in zip(kept, splits, strict=True):
            labels = label_vector(row)
            if any(row.labels.get(h) == 1 for h in HEADS[1:]):
                # other content heads: weak negatives, encoded as label 0 with the row weight
                # kept; the fit's pos_weight balances the scarce positives.
                labels = [0 if (v == -1 and i > 0 and HEADS[i] != "injection") else v
                          for i, v in enumerate(labels)]
            handle.write(json.dumps({
                "text": row.text, "labels": labels, "weight": row.weight, "split": split,
                "topic": row.topic, "source": row.source,
            }) + "\n")
            counts[(row.source, split)] += 1
    target = out / "base"
    target.mkdir(exist_ok=True)
    for name in ("config.json", "tokenizer.json", "vocab.txt", "tokenizer_config.json",
                 "special_tokens_map.json"):
        shutil.copy2(base / name, target / name)
    _half_precision(base / "model.safetensors", target / "model.safetensors")
    sources: dict[str, dict[str, int]] = {}
    for (source, split), n in sorted(counts.items()):
        sources.setdefault(source, {})[split] = n
    return {
        "rows": len(kept), "dropped_near_duplicates_of_frozen_sets": sum(dropped),
        "held_out_rows_kept_in_test": frozen_in_test,
        "sources": {s: {"licence": LICENCES.get(s, "?"), **v} for s, v in sources.items()},
        "frozen_sets": {str(p): sha256_file(p) for p in frozen},
    }


def _half_precision(src: Path, dst: Path) -> None:
    import torch  # noqa: PLC0415  (training extra)
    from safetensors.torch import load_file, save_file  # noqa: PLC0415

    state = load_file(str(src))
    save_file({k: v.to(torch.float16) for k, v in state.items()}, str(dst))
