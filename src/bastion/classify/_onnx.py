"""The shipped contextual model: a fine-tuned encoder exported to ONNX (int8 weights, int8
activations quantised per token, so a text's scores do not depend on the texts batched with
it), read with ONNX Runtime and ``tokenizers`` — no torch at run time.

The artifact folder holds ``model.onnx``, ``tokenizer.json`` and ``card.json`` (the model
card: base model and its hashes, training sets, splits, hyper-parameters, calibration,
policy-reader weights, test figures, and the sha256 of the two other files). Files whose hash
differs from the card are refused.

Lifetime: load once per process (:func:`load_model` caches); ``run`` is thread-safe (ONNX
Runtime sessions are) and batches texts by length so padding stays small. Each batch runs on
one core and batches run side by side, one per core (``BASTION_THREADS`` sets how many): on
this model that beat one batch at a time on all cores. A call of a few texts made while no
other call is reading is split over the cores too (three texts: 3.6 -> 2.6 ms on two cores).
"""

from __future__ import annotations

import json
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from bastion.classify._deadline import check_deadline, current_deadline
from bastion.classify._fewshot import sigmoid
from bastion.errors import BackendError, ConfigError
from bastion.models import sha256_file

#: Most word pieces read per text (the window size of the model, about 500 characters).
MAX_TOKENS = 128
#: Padded tokens per ONNX Runtime call (texts x the longest text's tokens): small batches stay
#: in cache, and short texts still share a call. On real chatbot prompts 384 read the texts
#: 4-7 % sooner than 8 texts a call (which had beaten 4, 16 and 32 texts); a text's scores do
#: not depend on it.
BATCH_TOKENS = 384
ARTIFACT = "contextual"
#: ONNX Runtime fusions the shipped graph keeps undone: its CPU ``SkipLayerNormalization``
#: kernel took a quarter of the model's time (onnxruntime 1.32), more than the ``Add``,
#: ``Add``, ``LayerNormalization`` it replaces.
UNFUSED = ("SkipLayerNormFusion",)


def artifact_dir(folder: Path | None = None) -> Path:
    """The shipped artifact folder, or ``folder`` when given."""
    return folder or Path(__file__).resolve().parent / "artifacts" / ARTIFACT


@dataclass(frozen=True)
class Outputs:
    """Model outputs for a batch: raw head logits and unit-length embeddings."""

    logits: np.ndarray
    embeddings: np.ndarray


class ContextualModel:
    """The verified ONNX model and its tokenizer."""

    def __init__(self, folder: Path) -> None:
        import onnxruntime as ort  # noqa: PLC0415 - heavy import, only when a model is used
        from tokenizers import Tokenizer  # noqa: PLC0415

        self.folder = folder
        self.card = _read_card(folder)
        for name in ("model.onnx", "tokenizer.json"):
            _verify(folder / name, self.card["files"][name])
        self.heads: tuple[str, ...] = tuple(self.card["heads"])
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer.no_padding()
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self._workers = _threads()
        self._reading = 0  # batches being read now, by every caller
        self._count = threading.Lock()
        # its threads start on first use; one pool per model, shared by all callers
        self._pool = ThreadPoolExecutor(self._workers, "bastion-model") \
            if self._workers > 1 else None
        try:
            self._session = ort.InferenceSession(
                str(folder / "model.onnx"), options, providers=["CPUExecutionProvider"],
                disabled_optimizers=list(UNFUSED))
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise ConfigError(f"contextual model {str(folder)!r} cannot be loaded ({exc}); "
                              "reinstall bastion-ai or rebuild it with "
                              "'python scripts/train_classifier.py'") from exc
        calibration = self.card["calibration"]
        self._scale = np.array([calibration[h][0] for h in self.heads], np.float32)
        self._shift = np.array([calibration[h][1] for h in self.heads], np.float32)

    def index(self, head: str) -> int:
        """Column of ``head``; ConfigError naming the shipped heads when there is none."""
        try:
            return self.heads.index(head)
        except ValueError:
            raise ConfigError(
                f"no embedded head {head!r}; available heads: {sorted(self.heads)}. Fix the "
                "category's 'head:' or remove it to have the policy reader score it from its "
                "rules and examples") from None

    def run(self, texts: list[str]) -> Outputs:
        """Logits and embeddings of ``texts`` (BackendError if ONNX Runtime fails,
        BackendTimeout once the caller's deadline has passed: see ``_deadline``)."""
        unique = list(dict.fromkeys(texts))
        if len(unique) < len(texts):  # a repeated string (a shared sentence) is read once
            found = self.run(unique)
            first = {text: i for i, text in enumerate(unique)}
            rows = np.fromiter((first[t] for t in texts), np.int64, len(texts))
            return Outputs(found.logits[rows], found.embeddings[rows])
        deadline = current_deadline()  # read here: the pool's threads do not share the context
        dim = int(self.card["dim"])
        logits = np.zeros((len(texts), len(self.heads)), np.float32)
        embeddings = np.zeros((len(texts), dim), np.float32)
        encoded = [e.ids for e in self._tokenizer.encode_batch(texts)]
        # longest first: side by side, the short batches fill the gaps at the end
        order = sorted(range(len(texts)), key=lambda i: -len(encoded[i]))
        batches: list[list[int]] = []
        for i in order:  # longest first, so a batch's first text sets its width
            last = batches[-1] if batches else []
            if last and (len(last) + 1) * len(encoded[last[0]]) <= BATCH_TOKENS:
                last.append(i)
            else:
                batches.append([i])
        if len(batches) == 1 and len(order) > 1 and self._pool is not None and not self._reading:
            # A few texts while no other call is reading (a gateway request when traffic is
            # light): one batch per core, so the answer comes sooner; under load, calls from
            # other requests keep the cores busy and a batch stays whole.
            parts = min(self._workers, len(order))
            batches = [order[k::parts] for k in range(parts)]

        def read(idx: list[int]) -> None:
            with self._count:
                self._reading += 1
            try:
                _read(idx)
            finally:
                with self._count:
                    self._reading -= 1

        def _read(idx: list[int]) -> None:
            check_deadline(deadline)
            width = max(len(encoded[i]) for i in idx)
            ids = np.zeros((len(idx), width), np.int64)
            mask = np.zeros((len(idx), width), np.int64)
            for row, i in enumerate(idx):
                ids[row, : len(encoded[i])] = encoded[i]
                mask[row, : len(encoded[i])] = 1
            try:
                out_logits, out_emb = self._session.run(
                    None, {"input_ids": ids, "attention_mask": mask})
            except Exception as exc:  # onnxruntime raises its own untyped errors
                raise BackendError(f"contextual model failed: {exc}") from exc
            logits[idx] = out_logits
            embeddings[idx] = out_emb

        if len(batches) == 1 or self._pool is None:
            for idx in batches:
                read(idx)
        else:
            for _ in self._pool.map(read, batches):  # re-raises a batch's BackendError
                pass
        return Outputs(logits, embeddings)

    def probabilities(self, logits: np.ndarray) -> np.ndarray:
        """Calibrated head probabilities (Platt scaling fitted on the validation split)."""
        return sigmoid(logits * self._scale + self._shift)


def _threads() -> int:
    """Batches read side by side: ``BASTION_THREADS``, else the machine's cores."""
    raw = os.environ.get("BASTION_THREADS", "").strip()
    if not raw:
        return os.cpu_count() or 1
    if not raw.isdigit() or int(raw) < 1:
        raise ConfigError(f"BASTION_THREADS={raw!r} is not a positive whole number; set it to "
                          "how many cores the model may use, or unset it to use them all")
    return int(raw)


def cores_per_worker(workers: int) -> int:
    """Each of ``workers`` processes' share of the machine's cores (at least one)."""
    return max(1, (os.cpu_count() or 1) // workers)


def share_cores(workers: int) -> None:
    """Before starting ``workers`` processes that each load the model: give each its share of
    the cores (``BASTION_THREADS``), unless the operator set it. Every worker would otherwise
    read with one thread per core, and the machine would run ``workers`` times as many model
    threads as it has cores."""
    if workers > 1 and not os.environ.get("BASTION_THREADS", "").strip():
        os.environ["BASTION_THREADS"] = str(cores_per_worker(workers))


@cache
def load_model(folder: str | None = None) -> ContextualModel:
    """The contextual model in ``folder`` (default: the shipped one), loaded once."""
    return ContextualModel(artifact_dir(Path(folder) if folder else None))


@cache
def shipped_card() -> dict[str, Any]:
    """The card of the shipped model, read once (without loading the model)."""
    return _read_card(artifact_dir())


def _read_card(folder: Path) -> dict[str, Any]:
    path = folder / "card.json"
    try:
        card: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        for key in ("files", "heads", "calibration", "dim"):
            card[key]
    except (OSError, ValueError, KeyError) as exc:
        raise ConfigError(f"model card {str(path)!r} cannot be read ({exc}); reinstall "
                          "bastion-ai or rebuild it with 'python scripts/train_classifier.py'"
                          ) from exc
    return card


def _verify(path: Path, expected: str) -> None:
    try:
        actual = sha256_file(path)
    except OSError as exc:
        raise ConfigError(f"model file {str(path)!r} cannot be read ({exc}); reinstall "
                          "bastion-ai") from exc
    if actual != expected:
        raise ConfigError(f"model file {str(path)!r} has sha256 {actual}, but the "
                          f"model card records {expected}; the file was changed, so Bastion "
                          "refuses to load it. Reinstall bastion-ai or rebuild the model")

