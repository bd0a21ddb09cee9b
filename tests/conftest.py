"""Shared fixtures: the asyncio backend and real PostgreSQL and Redis servers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.services import postgres_server, redis_server


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
