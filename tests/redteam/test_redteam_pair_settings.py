"""The request reader's settings agree in the three places that state them: the card (which
ships the band and threshold), :data:`bastion.redteam.scorers._pair.SHORT_WORDS`, and the
verdict bench's committed results; and the bench tells a pick of its own that differs from the
card's apart from readings that do not reproduce the card's."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from bastion.redteam.scorers._pair import SHORT_WORDS, load_pair_model
from bastion.redteam.training._pair import HIGHS, LOWS, PAIR_THRESHOLDS, Band

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import redteam_verdicts as bench  # lives in bench/, not in a package

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench" / "results" / "redteam_verdicts.json"


def test_the_card_states_one_choice_from_the_rules_grid_with_the_figures_it_was_chosen_by(
) -> None:
    card = load_pair_model().card
    low, high = card["band"]
    assert low in LOWS
    assert high in HIGHS
    assert card["threshold"] in PAIR_THRESHOLDS
    gated = card["metrics"]["gptfuzz_val"]["gated"]
    assert gated["threshold"] == card["threshold"]
    assert card["band_chosen_on"].startswith(
        f"GPTFuzz validation rows: agreement {gated['agreement']} with "
        f"{gated['routed']:.1%} of responses read twice")


def test_the_committed_bench_results_were_measured_at_the_settings_that_ship() -> None:
    card = load_pair_model().card
    val = json.loads(RESULTS.read_text("utf-8"))["gptfuzz_val"]
    (low, high), threshold = card["band"], card["threshold"]
    shipped = Band(low, high, threshold, 0.0, 0.0)
    assert val["left_out_question"]["shipped_setting"] == bench.setting(shipped, SHORT_WORDS)
    assert val["left_out_question"]["at_shipped"] == val["verdict"]["agreement"]
    check = val["band_check"]
    assert check["card_setting"] == f"band {shipped.low}-{shipped.high}, threshold " \
                                    f"{shipped.threshold}"
    assert check["card_setting_on_card"] == {
        "agreement": card["metrics"]["gptfuzz_val"]["gated"]["agreement"],
        "routed": card["metrics"]["gptfuzz_val"]["gated"]["routed"],
        "pair_alone_agreement": card["metrics"]["gptfuzz_val"]["pair_alone_agreement"]}


def _readings(p_pair: list[float]) -> bench.Readings:
    """Six rows the detector is unsure of (0.45 lies in every band of the grid), three
    refused; the pair model's readings given."""
    n = len(p_pair)
    return bench.Readings(
        p_detector=np.full(n, 0.45), complied_alone=np.zeros(n, bool),
        p_pair=np.asarray(p_pair), words=np.full(n, 500), echo=np.zeros(n, bool),
        refused=np.asarray([True, True, True, False, False, False]),
        groups=np.asarray([f"q{i}" for i in range(n)]))


def _card(agreement: float, pair_alone: float) -> dict[str, Any]:
    return {"band": [0.0, 0.5], "threshold": 0.7,
            "metrics": {"gptfuzz_val": {"gated": {"agreement": agreement, "routed": 1.0},
                                        "pair_alone_agreement": pair_alone}}}


def test_band_check_agrees_with_a_card_whose_readings_it_reproduces() -> None:
    # every row right at 0.7 and no other threshold: the rule's first band, threshold 0.7
    check = bench.band_check(_readings([0.9, 0.8, 0.7, 0.68, 0.1, 0.2]), _card(1.0, 1.0))
    assert check["readings_reproduce_card"] is True
    assert check["rule_picks_here"] == {"setting": "band 0.0-0.5, threshold 0.7",
                                        "agreement": 1.0, "routed": 1.0}


def test_band_check_says_when_readings_moved_and_the_pick_moved_with_them() -> None:
    # the refusal read 0.7 on the card's machine reads 0.69 here: 0.65 now does as well
    check = bench.band_check(_readings([0.9, 0.8, 0.69, 0.6, 0.1, 0.2]), _card(1.0, 1.0))
    assert check["readings_reproduce_card"] is False
    assert check["card_setting_here"] == {"agreement": round(5 / 6, 4), "routed": 1.0,
                                          "pair_alone_agreement": round(5 / 6, 4)}
    picked = check["rule_picks_here"]
    assert isinstance(picked, dict)
    assert picked["setting"] == "band 0.0-0.5, threshold 0.65"
