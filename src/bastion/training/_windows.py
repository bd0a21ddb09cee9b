"""Choose how long texts are read, on development data: which sentence pairs are read beside
single sentences, how run-on sentences are cut into word windows, and how much clearer than
the whole text a window must be before it alone decides a violation (the margin).

A window is one or two sentences read without the rest of the text. Windows stop a harmful
request hiding inside a long benign document, but they also read benign sentences out of
context ("You are a pirate captain." from a role-play set-up, a sentence of a phishing
*warning*), and on long benign prompts they caused most false positives. A window's score
therefore counts only above ``threshold + margin``. Pairs of sentences add context for short
sentences but cost most of the model's time on long texts (a pair is two sentences read
again: on the development sets below, pairs of up to 100 characters meant 46 % more word pieces
to read).

Run-on windows: a sentence of more than 20 words is read in windows of a few words; windows
that overlap (12 words moving 6, the first setting) read each word twice, and on 2,801 real
chatbot prompts they were a fifth of the word pieces read.

Development data only (never the blind sets): the policy pack's test rows (a development set
since the blind sets were written) inserted in the middle of real long benign prompts (Chatbot
Arena and GPTeacher instructions of 400-6,000 characters from ``benign_instructions``, a
training source) at a sentence boundary, and again inside the carrier's longest sentence (its
own sentence breaks made commas, so a row becomes a clause of a run-on sentence, where a
window edge can cut it), plus the carriers alone. Pair length, run-on windows and margin are
chosen together to maximise Youden's J: mean recall of the inserted violating rows minus the
mean false-positive rate of the inserted benign rows and the carriers. Settings within
:data:`TOLERANCE` of the best J count as equal (speed is a goal too): of those, the one that
reads the fewest word pieces wins, then the larger margin (windows are where false positives
on application traffic come from; on the validation split, pairs off with margin 0.1 flagged
10 more of 1,665 benign rows than with 0.2, for one more of 1,335 unsafe ones). Pairs of 160
and 320 characters, in the grid until 2026-12-04, read 65 % and 2.3x the pieces of none for no
better J and were dropped from it.

Tried on 2026-12-07 and not adopted: reading a text's sentence windows only when the text
already scores near a threshold (its whole-text views, and for a text longer than the model's
window each 120-piece chunk of it, read as probes). Inside a carrier a harmful row is diluted
to nothing: of the 219 violating rows above, those only a window caught scored a median of
0.024 on the whole text and its chunks (threshold 0.5). Opening the windows at any score of
0.001 or more already lost recall (violating_inside 0.795 -> 0.731, a row after 200-400
characters of a carrier 0.808 -> 0.708), and the chunk probes made 2,801 real chatbot prompts
cost 1.17x the word pieces, not fewer (both sides of each figure from one run with the shipped
model). Diluted harm is exactly what the whole text cannot see.
"""

from __future__ import annotations

import itertools
import json
import random
import re
from pathlib import Path
from typing import Any

import numpy as np

#: The margins compared (0 = windows count like the whole text).
MARGINS = (0.0, 0.1, 0.2, 0.3, 0.4)
#: Longest sentence pair read, in characters (0 = sentences alone).
PAIRS = (0, 100)
#: Word windows of run-on sentences: (words, step).
RUN_ONS = ((12, 6), (12, 9), (16, 12), (12, 12))
CARRIERS = 300
#: J differences this small are one row's worth of noise (one of the ~220 violating rows is
#: 0.0046 of recall), not a reason to read more word pieces.
TOLERANCE = 0.005
SEED = 7


def carriers(data: Path) -> list[str]:
    """Real long benign prompts (400-6,000 characters), shuffled with a fixed seed."""
    folder = data / "benign_instructions"
    texts: list[str] = []
    for name in ("arena_hard_prompts.jsonl", "gpteacher.jsonl"):
        for line in (folder / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                text = json.loads(line)["text"]
                if 400 < len(text) < 6000:
                    texts.append(text)
    random.Random(SEED).shuffle(texts)  # noqa: S311 - a reproducible sample, not a secret
    return texts[:CARRIERS]


def inserted(carrier: str, text: str) -> str:
    """``text`` placed at the sentence boundary nearest the middle of ``carrier``."""
    cut = carrier.find(". ", len(carrier) // 2)
    cut = cut + 2 if cut > 0 else len(carrier) // 2
    return carrier[:cut] + text + " " + carrier[cut:]


_BREAKS = re.compile(r"[.!?\n]+\s*")


def inserted_in_sentence(carrier: str, text: str) -> str:
    """``text``, its sentence breaks made commas, placed between two words in the middle of
    ``carrier``'s longest sentence."""
    sentences = [m.span() for m in _SENTENCE_SPAN.finditer(carrier)]
    start, end = max(sentences, key=lambda span: span[1] - span[0])
    cut = carrier.find(" ", (start + end) // 2, end)
    cut = cut if cut > 0 else (start + end) // 2
    clause = _BREAKS.sub(", ", text.strip()).strip(", ")
    return f"{carrier[:cut]}, {clause},{carrier[cut:]}"


_SENTENCE_SPAN = re.compile(r"[^.!?\n]+")


def dev_sets(root: Path, data: Path) -> dict[str, list[str]]:
    """Violating and benign pack rows inside carriers (as a sentence of their own and as a
    clause of a run-on sentence), and the carriers alone."""
    rows = []
    for path in sorted((root / "src/bastion/policy/pack/tests").glob("*.jsonl")):
        rows += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
                 if line.strip()]
    hosts = carriers(data)
    positive = [r["text"] for r in rows if r["label"] == 1 and r.get("category") != "PII"]
    negative = [r["text"] for r in rows if r["label"] == 0]
    return {"violating_inside": [inserted(hosts[i % len(hosts)], t)
                                 for i, t in enumerate(positive)],
            "benign_inside": [inserted(hosts[i % len(hosts)], t)
                              for i, t in enumerate(negative)],
            "violating_run_on": [inserted_in_sentence(hosts[-1 - i % len(hosts)], t)
                                 for i, t in enumerate(positive)],
            "benign_run_on": [inserted_in_sentence(hosts[-1 - i % len(hosts)], t)
                              for i, t in enumerate(negative)],
            "carriers": hosts}


def view_scores(folder: Path, texts: list[str], pair_chars: int, run_on: tuple[int, int]
                ) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per text, the highest calibrated score per default-policy category over the whole-text
    views and over the sentence windows (margin 0, so the raw window scores)."""
    from bastion.classify._embedded import EmbeddedClassifier  # noqa: PLC0415
    from bastion.policy import load_policy  # noqa: PLC0415

    policy = load_policy("default")
    tier = EmbeddedClassifier(artifacts=folder, window_margin=0.0, pair_chars=pair_chars,
                              run_on=run_on)
    return [tier.view_scores(text, policy) for text in texts]


def pieces_read(folder: Path, texts: list[str], pair_chars: int, run_on: tuple[int, int]
                ) -> int:
    """Word pieces the model reads for ``texts`` (each text's distinct views, each at most the
    model's window): the cost of a setting."""
    from bastion.classify._onnx import load_model  # noqa: PLC0415
    from bastion.classify._variants import views  # noqa: PLC0415

    model = load_model(str(folder))
    total = 0
    for text in texts:
        distinct = list({view.text: None for view in views(text, pair_chars=pair_chars,
                                                             run_on=run_on)})
        total += sum(model.lengths(distinct))
    return total


def choose_windows(root: Path, data: Path, folder: Path) -> dict[str, Any]:
    """Score the development sets for every pair length and run-on window, compare every
    margin, and return the choice with the whole grid. The model keeps what it read (run it
    with a large ``BASTION_MODEL_CACHE``: the settings share most views)."""
    from bastion.policy import load_policy  # noqa: PLC0415

    policy = load_policy("default")
    thresholds = np.array([c.threshold for c in policy.categories], np.float32)
    counted = np.array([c.action != "allow" for c in policy.categories])
    sets = dev_sets(root, data)
    grid = []
    for pair_chars, run_on in itertools.product(PAIRS, RUN_ONS):
        scored = {name: view_scores(folder, texts, pair_chars, run_on)
                  for name, texts in sets.items()}
        cost = sum(pieces_read(folder, texts, pair_chars, run_on) for texts in sets.values())
        for margin in MARGINS:
            rates = {}
            for name, rows in scored.items():
                flagged = [bool((((whole >= thresholds) | (windows - margin >= thresholds))
                                 & counted).any()) for whole, windows in rows]
                rates[name] = round(float(np.mean(flagged)), 4)
            recall = np.mean([rates[name] for name in sets if name.startswith("violating")])
            false = np.mean([rates[name] for name in sets if not name.startswith("violating")])
            grid.append({"pair_chars": pair_chars, "run_on_words": run_on[0],
                         "run_on_step": run_on[1], "margin": margin, **rates,
                         "youden_j": round(float(recall - false), 4), "pieces": cost})
    best = pick(grid)
    return {"pair_chars": best["pair_chars"], "run_on_words": best["run_on_words"],
            "run_on_step": best["run_on_step"], "margin": best["margin"],
            "criterion": f"fewest word pieces read within {TOLERANCE} of the best Youden's J "
                         "on development data",
            "rows": {name: len(texts) for name, texts in sets.items()}, "grid": grid}


def pick(grid: list[dict[str, Any]]) -> dict[str, Any]:
    """The setting of ``grid`` (rows with ``youden_j``, ``pieces`` and ``margin``) within
    :data:`TOLERANCE` of the best J that reads the fewest word pieces, then has the larger
    margin."""
    top = max(g["youden_j"] for g in grid)
    return min((g for g in grid if g["youden_j"] >= top - TOLERANCE),
               key=lambda g: (g["pieces"], -g["margin"]))
