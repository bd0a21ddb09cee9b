"""Shared fixtures: the asyncio backend, real PostgreSQL and Redis servers, and a migrated store
on each backend."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker
from tests.services import fresh_database, postgres_server, redis_server

from bastion.store import close_store, open_store


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where a browser test's screenshots go: ``$BASTION_SCREENSHOTS_DIR``
    (``scripts/screenshots.py`` points it at docs/screenshots), else the test's temporary
    folder; a plain test run never writes into the repository."""
    folder = Path(os.environ.get("BASTION_SCREENSHOTS_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def anyio_backend() -> str:
    """Run async tests on asyncio only."""
    return "asyncio"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A real PostgreSQL server for the session."""
    with postgres_server() as url:
        yield url


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A real Redis server for the session."""
    with redis_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database: SQLite (the embedded default), then a real PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/store.db"
    return fresh_database(request.getfixturevalue("postgres_url"))


@pytest.fixture
def sessions(db_url: str) -> Iterator[sessionmaker[Session]]:
    """A migrated store on ``db_url``, closed after the test."""
    made = open_store(db_url)
    yield made
    close_store(made)
