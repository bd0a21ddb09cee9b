"""Fixtures for red-team tests: a fast vulnerable target, campaign settings, data paths."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from tests.web.conftest import browser  # noqa: F401 - fixture: Debian's chromium, or a failure

from bastion.cli._redteam import register
from bastion.redteam import CampaignConfig, make_config

DATA = Path(__file__).parent / "data"


@pytest.fixture
def anyio_backend() -> str:
    """Run async tests on asyncio only."""
    return "asyncio"


@pytest.fixture
def cli() -> typer.Typer:
    """The ``redteam`` command group in a Typer app of its own."""
    app = typer.Typer()
    register(app)

    @app.command("noop")
    def noop() -> None:  # a second command keeps 'redteam' a sub-group, as in bastion's app
        """Nothing."""

    return app


@pytest.fixture
def small_config() -> CampaignConfig:
    """A quick campaign against the vulnerable target; harm scored by the rules tier."""
    return make_config(target="vulnerable", probes=["jailbreak", "injection_indirect",
                                                    "system_prompt_extraction"],
                       scorers=None, harm_tier="rules", concurrency=8, seed=7)


def shared_datasets() -> Path | None:
    """../shared/datasets when present."""
    for parent in Path(__file__).resolve().parents:
        candidate = parent.parent / "shared" / "datasets"
        if candidate.is_dir():
            return candidate
    return None


@pytest.fixture
def datasets_with_gptfuzz() -> Path:
    """../shared/datasets, which holds GPTFuzz; the test is skipped, saying so, without it."""
    datasets = shared_datasets()
    if datasets is None or not (datasets / "gptfuzz").is_dir():
        pytest.skip("../shared/datasets/gptfuzz not found")
    return datasets
