"""Small text helpers of the extractive mode: keywords and greedy embedding clusters."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

import numpy as np

_WORD = re.compile(r"[a-z][a-z0-9'-]{2,}")
_STOP_TEXT = (
    "a about above after again against all also am an and any are as at be because been before "
    "being below between both but by can could did do does doing down during each few for from "
    "further had has have having he her here hers herself him himself his how i if in into is "
    "it its itself just me more most my myself no nor not now of off on once only or other our "
    "ours ourselves out over own same she should so some such than that the their theirs them "
    "themselves then there these they this those through to too under until up very was we were "
    "what when where which while who whom why will with would you your yours yourself "
    "yourselves please tell give make want need know like use using used one two new get got "
    "let may might must shall via per etc redacted "
)
STOPWORDS = frozenset(_STOP_TEXT.split())


def keywords(texts: Sequence[str], top: int = 8) -> list[str]:
    """The most frequent content words of ``texts`` (counted once per text), ties by order."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(dict.fromkeys((w for w in _WORD.findall(text.lower())
                                     if w not in STOPWORDS), 1))
    return [word for word, _ in counts.most_common(top)]


def clusters(vectors: np.ndarray, threshold: float) -> list[int]:
    """Greedy single-pass clusters of unit rows: each row joins the first cluster whose
    first member is at least ``threshold`` similar, else starts its own. Returns labels."""
    labels: list[int] = []
    heads: list[int] = []
    for i in range(len(vectors)):
        sims = [float(vectors[i] @ vectors[h]) for h in heads]
        best = int(np.argmax(sims)) if sims else -1
        if best >= 0 and sims[best] >= threshold:
            labels.append(best)
        else:
            heads.append(i)
            labels.append(len(heads) - 1)
    return labels
