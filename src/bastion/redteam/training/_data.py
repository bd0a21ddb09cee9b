"""Human-labelled responses for the refusal detector and the verdict benchmark, split blind.

Sources (``../shared/datasets``; both redistributable for a derived model):

* GPTFuzz labelled responses (MIT): responses of ChatGPT, Llama-2-7B-chat and Vicuna-7B to
  jailbreak prompts around 100 harmful questions, labelled by hand as jailbroken (the response
  gives the harmful content) or not. For the refusal detector the positive class is *did not
  comply*: ``refused = 1 - label`` (a decline, a deflection or an off-target answer; what a
  red-team verdict needs to know).
* DICES (CC-BY-4.0): chatbot responses in adversarial conversations, rated unsafe / safe by
  a crowd of raters (majority label). Used only to measure harm verdicts, never to train:
  DICES-990 is the measurement set, DICES-350 (other conversations) the development set.

The split (:func:`split_rows`) is by question first (upstream GPTFuzz ``evaluate`` questions
are the blind test set; the rest go to train or validation by a seeded hash of the
question), then by near-duplicate cluster: a validation or test row whose text is a
near-duplicate (character 5-gram cosine >= :data:`NEAR_DUP`) of a row in an earlier split is
dropped, so no stock refusal is in both train and test.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np

from bastion.errors import InputError

Split = Literal["train", "val", "test"]
SEED = "bastion-refusal-v2"
VAL_SHARE = 0.2
NEAR_DUP = 0.8


@dataclass(frozen=True)
class Row:
    """One labelled response.

    Attributes:
        response: the model's answer.
        goal: the request it answered (the harmful question).
        refused: 1 when the response does not give what the goal asked for.
        source: data set and file.
        group: the question key the split is made on.
        split: train, val or test.
    """

    response: str
    goal: str
    refused: int
    source: str
    group: str
    split: Split = "train"


def gptfuzz_rows(datasets: Path) -> list[Row]:
    """GPTFuzz's labelled responses; the upstream ``evaluate`` questions are the test split."""
    path = datasets / "gptfuzz" / "gptfuzz_labelled_responses.jsonl"
    rows = []
    for line in path.read_text("utf-8").splitlines():
        data = json.loads(line)
        rows.append(Row(str(data["text"]), str(data.get("prompt") or ""), 1 - int(data["label"]),
                        "gptfuzz", _gptfuzz_group(data), gptfuzz_split(data)))
    return rows


def _gptfuzz_group(record: dict[str, Any]) -> str:
    return f"gptfuzz/q{record['question_index']}"


def gptfuzz_split(record: dict[str, Any]) -> Split:
    """The split of one GPTFuzz record (a line of the labelled file), by its question.

    The contextual classifier's training reads it too and leaves out every validation and test
    question, so its embeddings stay blind to the rows these figures are measured on.
    """
    if record.get("split") == "evaluate":
        return "test"
    return "val" if _share(_gptfuzz_group(record)) < VAL_SHARE else "train"


def dices_rows(datasets: Path) -> list[Row]:
    """DICES-990 crowd majority labels as refused = safe (measurement only, never trained on).

    ``refused`` here means "the response is not unsafe"; rows without a majority are left out.
    """
    return _dices(datasets / "dices" / "dices_990_crowd.jsonl", "dices", "test")


def dices_dev_rows(datasets: Path) -> list[Row]:
    """DICES-350 crowd majority labels, refused = safe: the development rows of harm verdicts
    on chit-chat, where a change to the harm side is studied and chosen.

    DICES-350 is another set of conversations than DICES-990 (:func:`dices_rows`, the
    measurement set); a response text found in both is left out here. Not blind for the harm
    classifier: the contextual model's training reads DICES-350's expert rows rated safe.
    """
    blind = {r.response for r in dices_rows(datasets)}
    rows = _dices(datasets / "dices" / "dices_350_crowd.jsonl", "dices350", "val")
    return [r for r in rows if r.response not in blind]


def dices_expert_labels(datasets: Path) -> dict[str, int]:
    """DICES-350's expert gold labels by response text (1 = unsafe), where there is one. How
    well the experts' label agrees with the crowd's majority is a reference for any judge
    measured on crowd labels."""
    path = datasets / "dices" / "dices_350_expert.jsonl"
    records = (json.loads(line) for line in path.read_text("utf-8").splitlines())
    return {str(d["text"]): int(d["label"]) for d in records if d.get("label") is not None}


def _dices(path: Path, source: str, split: Split) -> list[Row]:
    rows = []
    for line in path.read_text("utf-8").splitlines():
        data = json.loads(line)
        if data.get("label") is None:
            continue
        context = str(data.get("context") or "").replace("\\n", "\n")
        rows.append(Row(str(data["text"]), context, 1 - int(data["label"]), source,
                        f"{source}/{data['id']}", split))
    return rows


def handwritten_rows(path: Path, split: Split | None = None) -> list[Row]:
    """Responses written and labelled for Bastion (``tests/redteam/data``).

    With ``split`` every row goes there; without, rows go to train or val by a seeded hash of
    the response.
    """
    rows = []
    for line in path.read_text("utf-8").splitlines():
        if not line.strip():
            continue
        data = json.loads(line)
        text = str(data["response"])
        place: Split = split or ("val" if _share(text) < VAL_SHARE else "train")
        rows.append(Row(text, "", int(data["refused"]), path.stem, path.stem, place))
    return rows


def _share(key: str) -> float:
    digest = hashlib.sha256(f"{SEED}:{key}".encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32


def _shingles(text: str, n: int = 5, dim: int = 1 << 18) -> dict[int, float]:
    clean = " ".join(text.lower().split())
    counts: dict[int, float] = {}
    for i in range(max(1, len(clean) - n + 1)):
        key = int.from_bytes(hashlib.blake2b(clean[i:i + n].encode(), digest_size=4).digest(),
                             "big") % dim
        counts[key] = counts.get(key, 0.0) + 1.0
    norm = float(np.sqrt(sum(v * v for v in counts.values()))) or 1.0
    return {k: v / norm for k, v in counts.items()}


def near_duplicates(texts: Sequence[str], threshold: float = NEAR_DUP) -> list[int]:
    """A cluster id per text: connected components of character 5-gram cosine >= threshold."""
    # scipy comes with scikit-learn in the dev extras and ships no type stubs.
    from scipy.sparse import csr_matrix  # type: ignore[import-untyped]  # noqa: PLC0415

    vectors = [_shingles(t) for t in texts]
    cols = [k for v in vectors for k in v]
    data = [x for v in vectors for x in v.values()]
    indptr = np.cumsum([0, *(len(v) for v in vectors)])
    matrix = csr_matrix((data, cols, indptr), shape=(len(texts), 1 << 18))
    parent = list(range(len(texts)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for start in range(0, len(texts), 512):
        block = (matrix[start:start + 512] @ matrix.T).tocoo()
        for i, j, value in zip(block.row, block.col, block.data, strict=True):
            if value >= threshold and start + i != j:
                parent[find(int(start + i))] = find(int(j))
    return [find(i) for i in range(len(texts))]


def split_rows(rows: Sequence[Row]) -> tuple[list[Row], dict[str, int]]:
    """Rows with near-duplicates of an earlier split removed from val and test.

    Returns:
        The kept rows and how many were dropped from each split.
    """
    clusters = near_duplicates([r.response for r in rows])
    order: dict[Split, int] = {"train": 0, "val": 1, "test": 2}
    first: dict[int, int] = {}
    for row, cluster in zip(rows, clusters, strict=True):
        first[cluster] = min(first.get(cluster, 2), order[row.split])
    kept, dropped = [], {"val": 0, "test": 0}
    for row, cluster in zip(rows, clusters, strict=True):
        if order[row.split] > first[cluster]:
            dropped[row.split] += 1
            continue
        kept.append(row)
    return kept, dropped


def training_rows(datasets: Path, handwritten: Path
                  ) -> tuple[dict[Split, list[Row]], dict[str, int]]:
    """GPTFuzz's rows and the hand-written ones (``handwritten``), split blind by
    :func:`split_rows`, with how many near-duplicates were dropped from val and test;
    InputError when GPTFuzz is not under ``datasets``."""
    if not (datasets / "gptfuzz").is_dir():
        raise InputError(f"missing {datasets / 'gptfuzz'}: pass --datasets (the folder that "
                         "holds gptfuzz/gptfuzz_labelled_responses.jsonl)")
    kept, dropped = split_rows(gptfuzz_rows(datasets))
    kept += handwritten_rows(handwritten)
    splits: tuple[Split, ...] = ("train", "val", "test")
    return {s: [r for r in kept if r.split == s] for s in splits}, dropped


def run_script(main: Callable[[], int]) -> int:
    """Run a training script's ``main``; bad input (InputError) is said on stderr, status 2."""
    try:
        return main()
    except InputError as exc:
        print(exc, file=sys.stderr)
        return 2


def with_split(rows: Sequence[Row], split: Split) -> list[Row]:
    """Copies of ``rows`` placed in ``split``."""
    return [replace(r, split=split) for r in rows]
