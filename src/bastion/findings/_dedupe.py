"""Deduplication: an exact key and a semantic similarity for every finding.

Exact: the sha256 of the normalised transcript (roles and texts; Unicode NFKC, case folded,
invisible characters dropped, whitespace collapsed), so a re-submission with other spacing or
letter case is caught at once.

Semantic: the attack (the user turns) and the harmful output (the assistant turns) are each
embedded with :func:`bastion.classify.embed`. The attack is read in its plain form first
(:func:`bastion.findings._canon.plain_attack`): look-alike letters folded, leetspeak read back
into words, and a payload hidden in base64, hex, rot13, tag characters and the like decoded with
the classifier's own decoders, so a converted attack lands on the original. Two findings' pair
is a candidate when the attack cosine alone is high (the same attack, whatever the model
answered) or when a weighted mean of the attack and output cosines is. The embedder reads
English only (:func:`bastion.classify.reads`, the check on which the embedded classifier
escalates a text): when it does not read one of the two attacks, a translated attack say, their
attack cosine says nothing, and the output cosine alone stands for the mean. The weight and both
thresholds were chosen on the development pairs (dev and the old test split) of
``bench/data/findings_pairs`` (see ``bench/findings_dedupe.py``), and measured once on the
frozen blind pairs.

Vectors of two embedders are not comparable: each fingerprint names the model that made it
(:func:`bastion.classify.embedder_id`), and stored vectors of another model are left out of
the comparison until they are made again (``bastion findings refresh-vectors``).
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from bastion.classify import embed, embedder_id, reads
from bastion.findings._canon import plain_attack

_INVISIBLE = re.compile(r"[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff"
                        r"\U000e0000-\U000e007f]")
_SPACE = re.compile(r"\s+")



@dataclass(frozen=True)
class DedupeSettings:
    """When two findings are the same vulnerability.

    The defaults were chosen on the development pairs (dev and the old test split;
    ``bench/findings_dedupe.py`` checks that they still equal its choice); figures on every set,
    the blind one included, are in ``bench/results/findings_dedupe.json``.

    Attributes:
        prompt_weight: weight of the attack cosine in the combined similarity.
        threshold: combined similarity at or above which a pair is a candidate.
        prompt_threshold: attack cosine at or above which a pair is a candidate on its own.
    """

    prompt_weight: float = 0.5
    threshold: float = 0.72
    prompt_threshold: float = 0.94


@dataclass(frozen=True)
class Fingerprint:
    """What dedupe compares: the exact key, the two unit vectors (float32), the model that
    made them, and whether that model reads the attack's language."""

    transcript_hash: str
    prompt_vec: np.ndarray
    output_vec: np.ndarray
    model: str
    attack_read: bool = True


@dataclass(frozen=True)
class Candidate:
    """A finding that may be the same vulnerability, with why.

    Attributes:
        finding_id: the earlier finding.
        score: the combined similarity in [-1, 1] (1.0 for an exact match).
        exact: the normalised transcripts are identical.
        prompt / output: the attack and output cosines.
    """

    finding_id: int
    score: float
    exact: bool
    prompt: float
    output: float


def _plain(text: str) -> str:
    text = _INVISIBLE.sub("", unicodedata.normalize("NFKC", text))
    return _SPACE.sub(" ", text).strip().casefold()


def transcript_hash(turns: Sequence[Mapping[str, str]]) -> str:
    """The exact-duplicate key of a transcript."""
    rows = [[str(t.get("role", "")), _plain(str(t.get("content", "")))] for t in turns]
    return hashlib.sha256(json.dumps(rows, ensure_ascii=True).encode()).hexdigest()


def attack_text(turns: Sequence[Mapping[str, str]]) -> str:
    """The attack in plain form: user turns, de-obfuscated, with any decoded payload."""
    return "\n".join(plain_attack(str(t.get("content", ""))) for t in turns
                     if t.get("role") == "user")


def output_text(turns: Sequence[Mapping[str, str]]) -> str:
    """What the model answered: the assistant turns."""
    return "\n".join(str(t.get("content", "")) for t in turns if t.get("role") == "assistant")


def fingerprints(transcripts: Sequence[Sequence[Mapping[str, str]]]) -> list[Fingerprint]:
    """Fingerprints of many transcripts, embedded in two batches."""
    if not transcripts:
        return []
    attacks = [attack_text(t) or " " for t in transcripts]
    prompts = embed(attacks)
    outputs = embed([output_text(t) or " " for t in transcripts])
    model = embedder_id()
    return [Fingerprint(transcript_hash(t), prompts[i], outputs[i], model, reads(attacks[i]))
            for i, t in enumerate(transcripts)]


def similarity(prompt: float, output: float, prompt_weight: float,
               attacks_read: bool = True) -> float:
    """The combined similarity of two findings from their attack and output cosines: the
    output cosine alone when the embedder does not read both attacks."""
    weight = prompt_weight if attacks_read else 0.0
    return weight * prompt + (1.0 - weight) * output


def is_duplicate(prompt: float, output: float, exact: bool,
                 settings: DedupeSettings | None = None, attacks_read: bool = True) -> bool:
    """The dedupe rule: an exact match, the same attack, or close attack and output."""
    s = settings or DedupeSettings()
    return (exact or prompt >= s.prompt_threshold
            or similarity(prompt, output, s.prompt_weight, attacks_read) >= s.threshold)


def rank(new: Fingerprint, ids: Sequence[int] | np.ndarray, hashes: Sequence[str] | np.ndarray,
         prompts: np.ndarray, outputs: np.ndarray, *, settings: DedupeSettings | None = None,
         limit: int = 10, mask: np.ndarray | None = None,
         read: np.ndarray | None = None) -> list[Candidate]:
    """Findings the rule calls duplicates of ``new`` (exact matches first), best first.

    Vectorised over every row; ``mask`` (booleans) leaves rows out without copying them;
    ``read`` (booleans) says whose attack the embedder reads (default: everyone's).
    """
    s = settings or DedupeSettings()
    if len(ids) == 0:
        return []
    p = prompts @ new.prompt_vec
    o = outputs @ new.output_vec
    both_read = new.attack_read & (np.ones(len(ids), bool) if read is None else read)
    weight = np.where(both_read, s.prompt_weight, 0.0)
    combined = weight * p + (1.0 - weight) * o  # similarity(), vectorised
    exact = np.asarray(hashes) == new.transcript_hash
    ids = np.asarray(ids)
    keep = exact | (p >= s.prompt_threshold) | (combined >= s.threshold)
    if mask is not None:
        keep &= mask
    found = [Candidate(int(ids[i]), 1.0 if exact[i] else round(float(max(combined[i], p[i])), 4),
                       bool(exact[i]), round(float(p[i]), 4), round(float(o[i]), 4))
             for i in np.flatnonzero(keep)]
    found.sort(key=lambda c: (not c.exact, -c.score, c.finding_id))
    return found[:limit]


def to_blob(vector: np.ndarray) -> bytes:
    """A vector as stored in the database (float32 bytes)."""
    return np.asarray(vector, np.float32).tobytes()


def from_blobs(blobs: Sequence[bytes], dim: int = 384) -> np.ndarray:
    """Stored vectors as one matrix."""
    if not blobs:
        return np.zeros((0, dim), np.float32)
    return np.frombuffer(b"".join(blobs), np.float32).reshape(len(blobs), -1)
