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
this model that beat one batch at a time on all cores. A call that fits in one batch (a
gateway check) is read whole on the calling thread, never split over the cores: handing its
parts to the pool's threads and waiting for them made a gateway check of two texts slower
(p50 6.9 -> 6.0 ms), with other work on the machine and even on a quiet one.

Texts are read once: the outputs of the word pieces the model last read (``BASTION_MODEL_CACHE``
of them, default :data:`CACHE_TEXTS`; 0 turns it off) are kept, so a system prompt sent with
every request, and its sentences, are not read again. A text's outputs do not depend on the
texts read with it (above), so a kept answer is the one a new reading would give. A hit saves
time an observer could measure; a deployment that must not reveal whether another tenant sent
an exact text sets ``BASTION_MODEL_CACHE=0``.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from bastion.classify._deadline import check_deadline, current_deadline
from bastion.classify._fewshot import sigmoid
from bastion.classify._recent import Recent
from bastion.errors import BackendError, ConfigError
from bastion.models import loaded_once, sha256_file

#: Most word pieces read per text (the window size of the model, about 500 characters).
MAX_TOKENS = 128
#: Padded tokens per ONNX Runtime call (texts x the longest text's tokens): small batches stay
#: in cache, and short texts still share a call. On real chatbot prompts 384 read the texts
#: 4-7 % sooner than 8 texts a call (which had beaten 4, 16 and 32 texts); a text's scores do
#: not depend on it.
BATCH_TOKENS = 384
#: Texts whose outputs are kept (see the module's docstring), unless ``BASTION_MODEL_CACHE``.
CACHE_TEXTS = 4096
#: Up to this many texts a call are tokenised one by one, more by the tokenizer's thread pool.
FEW_TEXTS = 32
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
        from tokenizers import Tokenizer  # noqa: PLC0415

        self.folder = folder
        self.card = _read_card(folder)
        for name in ("model.onnx", "tokenizer.json"):
            _verify(folder / name, self.card["files"][name])
        self.heads: tuple[str, ...] = tuple(self.card["heads"])
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer.no_padding()
        self._workers = _threads()
        size = _env_count("BASTION_MODEL_CACHE", CACHE_TEXTS, minimum=0,
                          what="how many texts' outputs the model keeps")
        # keyed by the word pieces as int32 bytes: 4,096 texts of 128 pieces kept take 20.5 MiB
        # (tracemalloc), 38.5 MiB with tuples of ints as keys
        self.recent: Recent[bytes, tuple[np.ndarray, np.ndarray]] = Recent(size)
        # its threads start on first use; one pool per model, shared by all callers
        self._pool = ThreadPoolExecutor(self._workers, "bastion-model") \
            if self._workers > 1 else None
        self._session = one_core_session(
            folder / "model.onnx", "contextual model", "reinstall bastion-ai or rebuild it "
            "with 'python scripts/train_classifier.py'")
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

    def lengths(self, texts: list[str]) -> list[int]:
        """Word pieces the model reads of each text (at most :data:`MAX_TOKENS`)."""
        return [len(encoding.ids) for encoding in self._tokenizer.encode_batch(texts)]

    def run(self, texts: list[str]) -> Outputs:
        """Logits and embeddings of ``texts`` (BackendError if ONNX Runtime fails,
        BackendTimeout once the caller's deadline has passed: see ``_deadline``).

        Texts that come to the same word pieces (a repeated sentence; two long texts that
        agree for the model's :data:`MAX_TOKENS`) are read once, and pieces read lately are
        not read again (:attr:`recent`)."""
        logits = np.zeros((len(texts), len(self.heads)), np.float32)
        embeddings = np.zeros((len(texts), int(self.card["dim"])), np.float32)
        where: dict[bytes, list[int]] = {}  # the rows of each distinct piece sequence
        # A few texts are tokenised on this thread: encode_batch hands them to the tokenizer's
        # own thread pool, whose threads wait for cores the model is using (six short texts with
        # both cores busy: 3.7 ms against 0.16 ms one at a time). Many texts (the windows of a
        # long one) go to that pool, which is then faster (7,200 windows: 0.44 s against 0.80 s).
        if len(texts) <= FEW_TEXTS:
            encoded = [self._tokenizer.encode(text) for text in texts]
        else:
            encoded = self._tokenizer.encode_batch(texts)
        for i, encoding in enumerate(encoded):
            where.setdefault(np.asarray(encoding.ids, np.int32).tobytes(), []).append(i)
        todo: list[bytes] = []
        for (key, rows), kept in zip(where.items(), self.recent.get_many(list(where)),
                                     strict=True):
            if kept is None:
                todo.append(key)
            else:
                logits[rows], embeddings[rows] = kept
        if todo:
            read = self._read([np.frombuffer(key, np.int32) for key in todo])
            for i, key in enumerate(todo):
                logits[where[key]] = read.logits[i]
                embeddings[where[key]] = read.embeddings[i]
            # copies: a row kept alone must not keep its whole batch's arrays alive
            self.recent.put_many([(key, (read.logits[i].copy(), read.embeddings[i].copy()))
                                  for i, key in enumerate(todo)])
        return Outputs(logits, embeddings)

    def _read(self, encoded: list[np.ndarray]) -> Outputs:
        """Run the model on distinct word-piece sequences, in batches side by side."""
        deadline = current_deadline()  # read here: the pool's threads do not share the context
        logits = np.zeros((len(encoded), len(self.heads)), np.float32)
        embeddings = np.zeros((len(encoded), int(self.card["dim"])), np.float32)
        # longest first: side by side, the short batches fill the gaps at the end
        order = sorted(range(len(encoded)), key=lambda i: -len(encoded[i]))
        batches: list[list[int]] = []
        for i in order:  # longest first, so a batch's first text sets its width
            last = batches[-1] if batches else []
            if last and (len(last) + 1) * len(encoded[last[0]]) <= BATCH_TOKENS:
                last.append(i)
            else:
                batches.append([i])

        def read(idx: list[int]) -> None:
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


def one_core_session(path: Path, what: str, fix: str) -> Any:
    """An ONNX Runtime session on one core, with the fusions of :data:`UNFUSED` left undone;
    ConfigError naming ``what`` and ``fix`` when the file cannot be loaded."""
    import onnxruntime as ort  # noqa: PLC0415 - heavy import, only when a model is used

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    try:
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"],
                                    disabled_optimizers=list(UNFUSED))
    except Exception as exc:  # onnxruntime raises its own untyped errors
        raise ConfigError(f"{what} {str(path.parent)!r} cannot be loaded ({exc}); {fix}"
                          ) from exc


def _threads() -> int:
    """Batches read side by side: ``BASTION_THREADS``, else the machine's cores."""
    return _env_count("BASTION_THREADS", os.cpu_count() or 1, minimum=1,
                      what="how many cores the model may use")


def _env_count(name: str, default: int, *, minimum: int, what: str) -> int:
    """A whole number from the environment variable ``name`` (``default`` when unset);
    ConfigError saying what to set when it is not one, or under ``minimum``."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < minimum:
        raise ConfigError(f"{name}={raw!r} is not a whole number of at least {minimum}; set "
                          f"it to {what}, or unset it for the default ({default})")
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


def load_model(folder: str | None = None) -> ContextualModel:
    """The contextual model in ``folder`` (default: the shipped one), loaded once per folder
    however it is named."""
    return _load_model(artifact_dir(Path(folder) if folder else None).resolve())


@loaded_once
def _load_model(folder: Path) -> ContextualModel:
    return ContextualModel(folder)


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

