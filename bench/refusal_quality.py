"""Refusal-detector accuracy on human labels: Bastion's detector versus garak's
``mitigation.MitigationBypass`` (a substring list) on the same held-out rows.

Held-out sets (never trained on, never used to choose a setting):

* ``gptfuzz_test``: GPTFuzz's own evaluate questions, hand-labelled responses, with rows that
  near-duplicate a training or validation row removed (see :mod:`bastion.redteam.training`;
  needs ``../shared/datasets``, skipped with a message if not there);
* ``handwritten_holdout``: ``tests/redteam/data/refusal_holdout.jsonl``.

Refusal (the response does not give what was asked) is the positive class. ``bastion`` is the
detector alone (one probability per whole response); ``bastion_scorer`` is how the red-team
scorers read a response with it (:func:`bastion.redteam.scorers.compliance`: the whole, then
voice by voice, so one voice that answers is no refusal); ``bastion_scorer_with_request``, on
rows that carry their request (GPTFuzz), is how a campaign reads it: a response the detector
is unsure about, or a short one it reads as compliance, is decided by the model that reads
request and response together (:mod:`bastion.redteam.scorers._pair`). garak's detector
scores 1 when it finds no mitigation text (an attack success), so its refusal prediction is
``1 - score``. garak runs in its own venv (``--garak-venv``, default ``bench/.venv-garak``;
``python -m venv bench/.venv-garak && bench/.venv-garak/bin/pip install garak``; the detector
alone needs only ``pip install --no-deps garak==0.17.1 pyyaml xdg-base-dirs colorama``, which
is what the committed figures used). Results: ``bench/results/refusal_quality.json``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from bastion.evaluation import binary_scores
from bastion.redteam import load_refusal_model
from bastion.redteam.scorers import compliance
from bastion.redteam.training import Row, gptfuzz_rows, handwritten_rows, split_rows

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = ROOT / "tests" / "redteam" / "data"


def held_out(datasets: Path) -> dict[str, list[Row]]:
    """The blind test rows of each set."""
    sets = {"handwritten_holdout": handwritten_rows(DATA / "refusal_holdout.jsonl", "test")}
    if (datasets / "gptfuzz").is_dir():
        kept, _ = split_rows(gptfuzz_rows(datasets))
        sets["gptfuzz_test"] = [r for r in kept if r.split == "test"]
    else:
        print(f"skipping gptfuzz_test: {datasets / 'gptfuzz'} not found", file=sys.stderr)
    return sets


def garak_refusals(venv: Path, texts: list[str]) -> list[float] | str:
    """garak's refusal prediction per text (1 - MitigationBypass), or why it could not run."""
    exe = venv / "bin" / "python"
    if not exe.exists():
        return f"no garak venv at {venv}"
    with tempfile.TemporaryDirectory() as tmp:
        source, target = Path(tmp) / "in.json", Path(tmp) / "out.json"
        source.write_text(json.dumps(texts))
        done = subprocess.run([str(exe), str(HERE / "_garak" / "mitigation_scores.py"),
                               str(source), str(target)], capture_output=True, text=True,
                              check=False, env={"HOME": tmp, "XDG_DATA_HOME": tmp,
                                                "XDG_CONFIG_HOME": tmp, "XDG_CACHE_HOME": tmp,
                                                "PATH": "/usr/bin:/bin"})
        if done.returncode != 0:
            return f"garak failed: {done.stderr[-1500:]}"
        return [1.0 - s for s in json.loads(target.read_text())]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", type=Path, default=ROOT.parent / "shared" / "datasets")
    parser.add_argument("--garak-venv", type=Path, default=HERE / ".venv-garak")
    args = parser.parse_args()
    model = load_refusal_model()
    out: dict[str, object] = {"positive_class": "refusal",
                              "labels": "human (GPTFuzz annotators; hand labels)",
                              "bastion_artifact_sha256": model.meta["sha256"]}
    for name, rows in held_out(args.datasets).items():
        texts = [r.response for r in rows]
        labels = [r.refused for r in rows]
        probs = model.probabilities(texts).tolist()
        result: dict[str, object] = {"bastion": binary_scores(
            labels, [int(p >= model.threshold) for p in probs], probs,
            model.threshold).to_dict()}
        read = compliance(texts)
        result["bastion_scorer"] = binary_scores(
            labels, [int(not c.complied) for c in read], [1.0 - c.p_success for c in read],
            model.threshold).to_dict()
        if all(r.goal for r in rows):  # the scorer as a campaign runs it: with the request
            read = compliance(texts, None, [r.goal for r in rows])
            result["bastion_scorer_with_request"] = binary_scores(
                labels, [int(not c.complied) for c in read], [1.0 - c.p_success for c in read],
                model.threshold).to_dict()
        garak = garak_refusals(args.garak_venv, texts)
        result["garak_mitigation_bypass"] = garak if isinstance(garak, str) else \
            binary_scores(labels, [int(p >= 0.5) for p in garak], garak, 0.5).to_dict()
        out[name] = result
    path = HERE / "results" / "refusal_quality.json"
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
