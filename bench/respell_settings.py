"""Choose the respelling view's settings on validation data; print the grid.

The view (``respelled`` in :mod:`bastion.classify._variants`) mends misspelt words so that a
Best-of-N jailbreak (random capitals, characters nudged to a neighbouring code point, middle
letters shuffled) reads as its request. Two settings decide when it fires: the fewest words
mended and the least share of the text's words of four letters or more. For each pair this
prints, on validation rows of the training table only:

* recall of the ``default`` profile on 300 harmful requests (validation split; AdvBench,
  HarmBench, the declare-lab questions, AART, StrongREJECT, MaliciousInstruct and Bastion's
  own, under 300 characters; a fixed sample), plain and perturbed by the red team's
  ``best_of_n`` converter (shuffles alone, noise alone, its defaults), with and without the
  respelled text read as well;
* how often the view fires on the benign validation rows, and how many of those rows the
  respelled text then flags that were not flagged before.

The rule: the most recall under the converter's defaults, with at most one benign validation
row in 1,000 newly flagged. The blind measurement is ``best_of_n`` in
``bench/classifier_quality.py``'s transforms.

Run: ``python bench/respell_settings.py [--table build/train/fit-input/table.jsonl.gz]`` (the
table ``scripts/train_classifier.py``'s prepare step writes). Output: ``bench/results/
respell_settings.json``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
from pathlib import Path
from typing import Any

from bastion.classify import _respelling, get_classifier
from bastion.policy import load_policy
from bastion.redteam.converters import BestOfN

ROOT = Path(__file__).resolve().parent.parent
HARMFUL_SOURCES = ("advbench", "harmbench", "declare_lab_harmful_questions", "aart",
                   "bastion-own", "strongreject", "malicious_instruct")
GRID = [(1, 0.0), (2, 0.0), (2, 0.2), (2, 0.3), (3, 0.2), (3, 0.3)]
PERTURBATIONS = {"shuffles": {"caps": 0.0, "noise": 0.0, "scramble": 0.6},
                 "noise": {"caps": 0.0, "noise": 0.06, "scramble": 0.0},
                 "defaults": {}}
MAX_NEWLY_FLAGGED = 0.001


def validation_rows(table: Path) -> tuple[list[str], list[str]]:
    """The harmful sample and the benign rows of the table's validation split."""
    with gzip.open(table, "rt", encoding="utf-8") as handle:
        handle.readline()  # the heads
        rows = [json.loads(line) for line in handle]
    val = [r for r in rows if r["split"] == "val"]
    harmful = [r["text"] for r in val if r["labels"][0] == 1
               and r["source"] in HARMFUL_SOURCES and len(r["text"]) < 300]
    benign = [r["text"] for r in val if r["labels"][0] == 0]
    return random.Random(0).sample(harmful, 300), benign


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--table", type=Path,
                        default=ROOT / "build" / "train" / "fit-input" / "table.jsonl.gz")
    args = parser.parse_args()
    if not args.table.is_file():
        print(f"missing {args.table}: run 'python scripts/train_classifier.py --steps prepare' "
              "or pass --table", file=sys.stderr)
        return 2
    harmful, benign = validation_rows(args.table)
    classifier, policy = get_classifier("default"), load_policy("default")

    def flagged(texts: list[str]) -> list[bool]:
        return [v.kind != "safe" for v in classifier.classify(texts, policy)]

    def respelled(texts: list[str], words: int, share: float) -> list[str]:
        return [_respelling._respell(t, words, share) for t in texts]

    shipped = (_respelling._RESPELL_WORDS, _respelling._RESPELL_SHARE)
    # the classifier reads the respelled view itself: off here, the texts are compared with
    # their respelled form read as a text of its own
    _respelling._RESPELL_WORDS = 10**6
    perturbed = {name: [BestOfN(**options).convert(t, random.Random(f"{name}{i}"))
                        for i, t in enumerate(harmful)]
                 for name, options in PERTURBATIONS.items()}
    before = {name: flagged(texts) for name, texts in perturbed.items()}
    out: dict[str, Any] = {"harmful": len(harmful), "benign": len(benign),
                           "plain_recall": round(sum(flagged(harmful)) / len(harmful), 4),
                           "recall_without_view": {n: round(sum(f) / len(f), 4)
                                                   for n, f in before.items()},
                           "grid": []}
    for words, share in GRID:
        row: dict[str, Any] = {"words": words, "share": share}
        for name, texts in perturbed.items():
            after = flagged(respelled(texts, words, share))
            row[f"recall_{name}"] = round(sum(a or b for a, b in zip(before[name], after,
                                                                        strict=True))
                                          / len(texts), 4)
        changed = [(t, r) for t, r in zip(benign, respelled(benign, words, share), strict=True)
                   if r != t]
        was, now = flagged([t for t, _ in changed]), flagged([r for _, r in changed])
        row["benign_fired"] = len(changed)
        row["benign_newly_flagged"] = sum(n and not w for w, n in zip(was, now, strict=True))
        out["grid"].append(row)
    allowed = [r for r in out["grid"]
               if r["benign_newly_flagged"] <= MAX_NEWLY_FLAGGED * len(benign)]
    best = max(allowed, key=lambda r: (r["recall_defaults"], -r["benign_fired"]))
    out["chosen"] = {"words": best["words"], "share": best["share"]}
    out["shipped"] = {"words": shipped[0], "share": shipped[1]}
    (ROOT / "bench" / "results" / "respell_settings.json").write_text(
        json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
