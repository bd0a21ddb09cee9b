"""Near-duplicate detection for retried prompts: MinHash over character shingles.

A fingerprint is 32 hex-encoded 32-bit minimums; two texts' estimated Jaccard similarity is
the share of positions where their fingerprints agree. Rewording a blocked prompt slightly
keeps most shingles, so retries score high while unrelated prompts score near zero.
"""

from __future__ import annotations

import hashlib
import re

_PERMUTATIONS = 32
_PRIME = (1 << 61) - 1
_MASK = (1 << 32) - 1
_SHINGLE = 4
_COEFFS = [
    (int.from_bytes(hashlib.sha256(f"a{i}".encode()).digest()[:8], "big") | 1,
     int.from_bytes(hashlib.sha256(f"b{i}".encode()).digest()[:8], "big"))
    for i in range(_PERMUTATIONS)
]
_SPACE = re.compile(r"\s+")


def _shingles(text: str) -> set[int]:
    norm = _SPACE.sub(" ", text.casefold()).strip()[:2000]
    if len(norm) <= _SHINGLE:
        norm = norm.ljust(_SHINGLE + 1)
    return {
        int.from_bytes(hashlib.blake2b(norm[i:i + _SHINGLE].encode("utf-8", "surrogatepass"),
                                       digest_size=8).digest(), "big")
        for i in range(len(norm) - _SHINGLE + 1)
    }


def fingerprint(text: str) -> str:
    """The MinHash fingerprint of a text (256 hex characters)."""
    shingles = _shingles(text)
    mins = (min(((a * s + b) % _PRIME) & _MASK for s in shingles) for a, b in _COEFFS)
    return "".join(f"{m:08x}" for m in mins)


def similarity(first: str, second: str) -> float:
    """Estimated Jaccard similarity of two fingerprints, in [0, 1]."""
    if len(first) != len(second) or not first:
        return 0.0
    pairs = [(first[i:i + 8], second[i:i + 8]) for i in range(0, len(first), 8)]
    return sum(a == b for a, b in pairs) / len(pairs)
