"""The schema's migrations: one unbroken line, and the models match what they build."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

from bastion.store import close_store, open_store
from bastion.store._models import Base


def _script() -> ScriptDirectory:
    config = Config()
    config.set_main_option("script_location",
                           str(resources.files("bastion.store").joinpath("migrations")))
    return ScriptDirectory.from_config(config)


def test_migrations_form_one_line() -> None:
    script = _script()
    assert len(script.get_heads()) == 1, f"several heads: {script.get_heads()}; chain them"
    revisions = list(script.walk_revisions())
    assert revisions[-1].down_revision is None
    assert all(isinstance(r.down_revision, str | None) for r in revisions)  # no merge points


def test_models_match_the_migrated_schema(tmp_path: Path) -> None:
    import bastion.copilot
    import bastion.findings
    import bastion.monitor
    import bastion.network
    import bastion.policy.store
    import bastion.web  # noqa: F401

    url = f"sqlite:///{tmp_path / 'schema.db'}"
    close_store(open_store(url))  # migrates
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    finally:
        engine.dispose()
    assert not diff, f"models and migrations differ: {diff}"
