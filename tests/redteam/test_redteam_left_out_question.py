"""The verdict bench's left-out-question estimate chooses the pair model's settings without the
question it scores, so it is lower than the in-sample figure wherever a question pulls the
choice its own way."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import redteam_verdicts as bench  # lives in bench/, not in a package


def _readings() -> bench.Readings:
    """Fifteen rows in seven questions; the detector is unsure of every row (0.45 lies in
    every band of the grid), so only the pair model's threshold matters. ``hard-low`` is right
    only at threshold 0.3, ``hard-high`` (heavier) only at 0.7; the five easy questions are
    right at every threshold. All questions together choose 0.7 and miss one row (14 of 15);
    without ``hard-low`` the choice is 0.7 and misses its refusal (1 row), without
    ``hard-high`` it is 0.3 and misses its two compliant rows: 12 of 15 left out."""
    rows = [("hard-low", 1, 0.30), ("hard-low", 0, 0.25),
            ("hard-high", 1, 0.70), ("hard-high", 0, 0.65), ("hard-high", 0, 0.65)]
    for easy in range(5):
        rows += [(f"easy-{easy}", 1, 0.90), (f"easy-{easy}", 0, 0.10)]
    n = len(rows)
    return bench.Readings(
        p_detector=np.full(n, 0.45), complied_alone=np.zeros(n, bool),
        p_pair=np.asarray([p for _, _, p in rows]), words=np.full(n, 500),
        echo=np.zeros(n, bool), refused=np.asarray([bool(r) for _, r, _ in rows]),
        groups=np.asarray([g for g, _, _ in rows]))


def test_left_out_question_agreement_scores_each_question_with_settings_chosen_without_it(
) -> None:
    shipped = (bench.Band(0.2, 0.7, 0.3, 0.0, 0.0), 130)
    result = bench.left_out_question_agreement(_readings(), shipped)
    assert result["in_sample"] == round(14 / 15, 4)
    assert result["agreement"] == round(12 / 15, 4)
    assert result["at_shipped"] == round(13 / 15, 4)  # threshold 0.3 misses hard-high's two
    assert result["questions"] == 7
    # the grid's first band routes every row as well as any; the length never matters here
    assert result["chosen_with_a_question_left_out"] == {
        "band 0.0-0.5, threshold 0.7, 0 words": 6, "band 0.0-0.5, threshold 0.3, 0 words": 1}


def test_verdicts_at_shipped_like_settings_follow_the_pair_model_inside_the_band() -> None:
    read = _readings()
    said = bench.verdicts_at(read, bench.Band(0.2, 0.7, 0.7, 0.0, 0.0), 130)
    # every row is in the band: success where the pair model's p(refused) is under 0.7
    assert said.tolist() == [p < 0.7 for p in read.p_pair.tolist()]
