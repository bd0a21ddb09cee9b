"""Strategy and converter options reach the campaign from its settings (session 32).

`bastion redteam list strategies` shows PAIR's streams and iterations, TAP's depth, branching
and width, crescendo's backtracks, the converters' shift, rate or chars; no setting passed
them on, so a campaign always ran the defaults (three PAIR streams of five iterations).
"""

from __future__ import annotations

import random
from pathlib import Path

import anyio
import pytest

from bastion.errors import ConfigError
from bastion.redteam import Campaign, load_config, make_config
from bastion.redteam.strategies._strategies import Pair


def test_a_campaign_file_sets_strategy_and_converter_options(tmp_path: Path) -> None:
    campaign = tmp_path / "redteam.yaml"
    campaign.write_text("probes: [harmful]\nstrategies: [pair, single]\n"
                        "strategy_options:\n  pair: {streams: 2, iterations: 4}\n"
                        "converters: [caesar]\nconverter_options:\n  caesar: {shift: 5}\n"
                        "attacker_url: http://127.0.0.1:9/v1\nharm_tier: rules\n")
    built = Campaign(load_config(campaign))
    pair = built.strategies["pair"]
    assert isinstance(pair, Pair)
    assert (pair.streams, pair.iterations) == (2, 4)
    assert "fgh" in built.converters["caesar"].convert("abc", random.Random(0))


@pytest.mark.parametrize(("settings", "message"), [
    ({"strategy_options": {"piar": {"streams": 2}}}, "strategy_options name 'piar'"),
    ({"converter_options": {"caesar": {"shift": 5}}}, "converter_options name 'caesar'"),
    ({"strategy_options": {"crescendo": {"backtrack": 1}}},
     r"no option 'backtrack'.*list strategies'"),
])
def test_options_for_a_plugin_not_used_or_an_option_it_lacks_are_errors(
        settings: dict[str, object], message: str) -> None:
    config = make_config(probes=["harmful"], strategies=["single", "crescendo"],
                         harm_tier="rules", **settings)
    with pytest.raises(ConfigError, match=message):
        Campaign(config)


def test_options_change_the_fingerprint_so_a_log_is_not_resumed_with_others() -> None:
    base = make_config(probes=["harmful"], strategies=["crescendo"], harm_tier="rules")
    other = make_config(probes=["harmful"], strategies=["crescendo"], harm_tier="rules",
                        strategy_options={"crescendo": {"backtracks": 0}})
    assert base.fingerprint() != other.fingerprint()
    attempts = anyio.run(Campaign(other).run)
    assert attempts
