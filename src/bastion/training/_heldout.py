"""The held-out test rows of the shipped model, frozen as digests of their texts.

``bench/classifier_quality.py`` measures the model on the test split of the table it was trained
on. Splitting today's sources again is not the same: the split is by near-duplicate cluster, and
a cluster's split follows its first member, so adding or leaving out one row can move a whole
cluster. On 2026-12-02, leaving out some GPTFuzz questions (c39698a) moved the one cluster that
holds every GPTFuzz response from train to test, and a split made again measured 3,842 rows the
model had trained on as held out. The ``heldout`` step writes the digests of the test split that
``fit`` read; the bench reads only rows whose text is listed. Digests, not texts: the shared
sets may not be copied into the repository.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from bastion.training._refit import read_table

#: Hex characters of a text's SHA-256 kept (64 bits: no collision among ~10^4 rows).
DIGEST_CHARS = 16


def text_digest(text: str) -> str:
    """The digest a held-out file lists for ``text``."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:DIGEST_CHARS]


def write_heldout(table: Path, target: Path, made_by: str) -> int:
    """Write the sorted digests of ``table``'s test rows to ``target`` after a ``#`` line that
    says what they are and how they were made (``made_by``); return how many there are."""
    _, rows = read_table(table)
    digests = sorted({text_digest(r["text"]) for r in rows if r["split"] == "test"})
    head = (f"# sha256[:{DIGEST_CHARS}] of the test-split texts of a {len(rows):,}-row training "
            f"table; {made_by}")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(head + "\n" + "".join(f"{d}\n" for d in digests), encoding="utf-8")
    return len(digests)


def read_heldout(path: Path) -> set[str]:
    """The digests of a file :func:`write_heldout` wrote; a line that is not one is an error."""
    digests: set[str] = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith("#") or not line:
            continue
        if len(line) != DIGEST_CHARS or line.strip("0123456789abcdef"):
            raise ValueError(f"{path}:{number}: {line[:40]!r} is not a text digest; the file "
                             f"is written by 'python scripts/train_classifier.py heldout'")
        digests.add(line)
    return digests
