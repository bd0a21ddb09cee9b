"""Compare contextual-model folders at the operating point, on the validation split only.

Usage (after ``train_classifier.py prepare ... card``)::

    python scripts/refit_check.py src/bastion/classify/artifacts/contextual build/train/onnx

For each folder: the default profile (rules, then that model) with the default policy, on the
validation rows of ``build/train/fit-input/table.jsonl.gz`` that come from
``data/own/c_app_*.jsonl`` (application traffic) and on a seeded sample of the other validation
rows. A text counts as flagged when its verdict is not safe (errors block). Validation only:
this decides whether a build ships; the blind and held-out sets are for ``bench/``.

``--window-margin M`` (repeatable) also runs each folder with sentence windows counted only
``M`` above the threshold (0.99: windows off), to show what the windows cost and catch.

A build whose card has no ``windows`` (the step was not run yet) would read the defaults, not
the chosen windows, and compare badly for that reason alone; such a folder is refused unless
``--windows-from FOLDER`` names a card whose windows it should read (the installed one).
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path
from typing import Any

from bastion.classify import get_classifier
from bastion.evaluation import binary_scores, confusion
from bastion.policy import load_policy
from bastion.training._refit import read_table

ROOT = Path(__file__).resolve().parent.parent


def rates(flagged: list[bool], unsafe: list[bool]) -> dict[str, Any]:
    """False-positive and true-positive rates with their counts."""
    labels, predicted = [int(u) for u in unsafe], [int(f) for f in flagged]
    tp, fp, _, _ = confusion(labels, predicted)
    scores = binary_scores(labels, predicted)
    return {"fpr": scores.fpr, "fp": fp, "benign": unsafe.count(False),
            "tpr": scores.recall, "tp": tp, "unsafe": unsafe.count(True)}


def windows_options(folder: Path) -> dict[str, Any]:
    """The classifier options that read the windows chosen in ``folder``'s card."""
    card = json.loads((folder / "card.json").read_text(encoding="utf-8"))
    if "windows" not in card:
        raise SystemExit(f"--windows-from {folder}: its card.json has no 'windows' either")
    chosen = card["windows"]
    return {"window_margin": float(chosen["margin"]), "pair_chars": int(chosen["pair_chars"]),
            "run_on": (int(chosen["run_on_words"]), int(chosen["run_on_step"]))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--table", type=Path,
                        default=ROOT / "build/train/fit-input/table.jsonl.gz")
    parser.add_argument("--sample", type=int, default=3000)
    parser.add_argument("--window-margin", type=float, action="append", default=[])
    parser.add_argument("--windows-from", type=Path, default=None,
                        help="read folders whose card has no 'windows' with this folder's")
    args = parser.parse_args()
    lent = windows_options(args.windows_from) if args.windows_from else None
    base: dict[Path, dict[str, Any]] = {}
    for folder in args.folders:
        if "windows" in json.loads((folder / "card.json").read_text(encoding="utf-8")):
            base[folder] = {}
        elif lent is not None:
            base[folder] = lent
        else:
            parser.error(f"{folder}/card.json has no 'windows' (the windows step was not run), "
                         "so it would read default windows and not compare fairly; run that "
                         "step, or pass --windows-from FOLDER to read it with that card's")
    _, rows = read_table(args.table)
    app = {json.loads(line)["text"] for path in (ROOT / "data/own").glob("c_app_*.jsonl")
           for line in path.read_text(encoding="utf-8").splitlines() if line.strip()}
    val = [r for r in rows if r["split"] == "val"]
    sets = {"app_traffic": [r for r in val if r["text"] in app],
            "other": random.Random(5).sample([r for r in val if r["text"] not in app],
                                              args.sample)}
    policy = load_policy("default")
    out: dict[str, Any] = {}
    runs = [(str(folder) + (" (windows of --windows-from)" if base[folder] else ""),
             {**base[folder], "artifacts": str(folder)}) for folder in args.folders]
    runs += [(f"{folder} (window_margin={margin})",
              {**base[folder], "artifacts": str(folder), "window_margin": margin})
             for folder in args.folders for margin in args.window_margin]
    for name, options in runs:
        classifier = get_classifier("default", model_options=options)
        out[name] = {}
        for part_name, part in sets.items():
            verdicts = []
            for i in range(0, len(part), 256):
                verdicts += classifier.classify([r["text"] for r in part[i:i + 256]], policy)
            out[name][part_name] = rates([v.kind != "safe" for v in verdicts],
                                         [max(r["labels"]) == 1 for r in part])
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
