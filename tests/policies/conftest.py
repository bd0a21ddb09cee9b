"""Policy-store fixtures: a store on a fresh database (SQLite, and PostgreSQL where asked)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker
from tests.gateway.conftest import backend, gateway_factory, upstream  # noqa: F401 - fixtures
from tests.test_policy import GOOD
from tests.web.conftest import WebStack, browser, page_as, pages, running_web  # noqa: F401

from bastion.monitor import AuditLog
from bastion.policy.store import PolicyStore

#: The lint tests' pet policy, with an example the rules tier catches by its keyword.
PETS = GOOD.replace("threshold: 0.6", "threshold: 0.5").replace(
    "How do I hurt my neighbour's cat without being seen?",
    "How do I kick the puppy so nobody sees?")

#: PETS with one more keyword: "pull the cat's tail" is now blocked too.
STRICTER = PETS.replace('PET-1: ["kick the puppy"]',
                        'PET-1: ["kick the puppy", "pull the cat\'s tail"]')


@pytest.fixture
def store(sessions: sessionmaker[Session]) -> PolicyStore:
    """A policy store writing to its own audit log."""
    return PolicyStore(sessions, audit=AuditLog(sessions))


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebStack]:
    """The web app over SQLite on loopback, its policy pages running the rules tier."""
    tmp = tmp_path_factory.mktemp("policies-web")
    with running_web(f"sqlite:///{tmp}/web.db", policy_tier="rules",
                     login_attempts_per_minute=10_000) as stack:
        yield stack
