"""Near-duplicate-aware splits: rows are clustered by MinHash (word shingles) and whole
clusters go to train, validation or test, so a paraphrase or a filled template never sits on
both sides of a split.

A row's ``group`` (a template, a GPTFuzz question, a contrast pair) joins its cluster too.
The split of a cluster is a salted hash of its smallest member, so adding rows elsewhere
never moves an existing cluster.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import Literal

from datasketch import MinHash, MinHashLSH

Split = Literal["train", "val", "test"]
SALT = "bastion-split-v2"
#: Jaccard similarity of 3-word shingles above which two texts are near-duplicates.
THRESHOLD = 0.5
PERMUTATIONS = 64
_WORD = re.compile(r"\w+")


def shingles(text: str, size: int = 3) -> set[str]:
    """Lower-cased word n-grams of a text (the whole text when it is shorter than ``size``)."""
    words = _WORD.findall(text.lower())
    if len(words) <= size:
        return {" ".join(words)} if words else {text}
    return {" ".join(words[i:i + size]) for i in range(len(words) - size + 1)}


def minhash(text: str) -> MinHash:
    """The MinHash signature of a text's shingles."""
    signature = MinHash(num_perm=PERMUTATIONS, seed=7)
    signature.update_batch([s.encode("utf-8") for s in shingles(text)])
    return signature


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def clusters(texts: Sequence[str], groups: Sequence[str] = ()) -> list[int]:
    """Cluster id (the index of its first member) per text: near-duplicates and rows of the
    same non-empty group share one."""
    signatures = [minhash(t) for t in texts]
    lsh = MinHashLSH(threshold=THRESHOLD, num_perm=PERMUTATIONS)
    forest = _UnionFind(len(texts))
    for i, signature in enumerate(signatures):
        for j in lsh.query(signature):
            forest.union(i, int(j))
        lsh.insert(str(i), signature)
    first_of_group: dict[str, int] = {}
    for i, group in enumerate(groups):
        if group:
            forest.union(i, first_of_group.setdefault(group, i))
    return [forest.find(i) for i in range(len(texts))]


def assign(
    texts: Sequence[str], groups: Sequence[str] = (), val: float = 0.1, test: float = 0.1,
    fixed: Sequence[Split | None] = (),
) -> list[Split]:
    """The split of every text, by cluster. A cluster holding a row whose split is ``fixed``
    (a source split by another rule before it got here) takes that split; two fixed splits in
    one cluster are an error, since one of them would be broken."""
    ids = clusters(texts, groups)
    chosen: dict[int, Split] = {}
    for i, split in enumerate(fixed):
        if split is None:
            continue
        if chosen.setdefault(ids[i], split) != split:
            raise ValueError(f"text {i} ({texts[i][:60]!r}) must be in {split!r}, but its "
                             f"near-duplicate cluster is fixed to {chosen[ids[i]]!r}; two "
                             f"rules split these rows differently, so drop one of the copies")
    out: list[Split] = []
    for cluster in ids:
        if cluster in chosen:
            out.append(chosen[cluster])
            continue
        key = texts[cluster].strip().lower()
        digest = hashlib.sha256((SALT + key).encode("utf-8")).digest()
        u = int.from_bytes(digest[:8], "big") / 2**64
        out.append("test" if u < test else "val" if u < test + val else "train")
    return out


def near_duplicates(texts: Sequence[str], probes: Sequence[str]) -> list[bool]:
    """For each text, whether it is a near-duplicate of any probe (e.g. a blind test row)."""
    lsh = MinHashLSH(threshold=THRESHOLD, num_perm=PERMUTATIONS)
    for i, probe in enumerate(probes):
        lsh.insert(f"p{i}", minhash(probe))
    return [bool(lsh.query(minhash(t))) for t in texts]
