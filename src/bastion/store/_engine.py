"""Engines and schema upgrades: SQLite (WAL) by default, PostgreSQL for teams."""

from __future__ import annotations

import os
from importlib import resources
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bastion._urls import public_url
from bastion.errors import ConfigError, RuntimeFailure

DATABASE_URL_ENV = "BASTION_DATABASE_URL"
DEFAULT_URL = "sqlite:///bastion.db"


def database_url(url: str | None = None) -> str:
    """The URL to use: the argument, else ``$BASTION_DATABASE_URL``, else ``bastion.db``."""
    return url or os.environ.get(DATABASE_URL_ENV) or DEFAULT_URL


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run while one writer writes; busy_timeout waits for a lock rather than
    # failing at once; NORMAL sync is durable across application crashes in WAL mode.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(url: str | None = None) -> Engine:
    """An engine for ``url`` (see :func:`database_url`), with SQLite set to WAL mode.

    Raises:
        ConfigError: the URL cannot be parsed or names a driver that is not installed.
    """
    url = database_url(url)
    options: dict[str, Any] = {"pool_pre_ping": True}
    if url.startswith("postgresql"):
        url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        engine = create_engine(url, **options)
    except (ArgumentError, ImportError) as exc:
        raise ConfigError(f"database URL {public_url(url)!r} is not usable: {exc}; use e.g. "
                          "'sqlite:///bastion.db' or 'postgresql://user@host/db'") from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _alembic_config(engine: Engine) -> Config:
    config = Config()
    location = resources.files("bastion.store").joinpath("migrations")
    config.set_main_option("script_location", str(location))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration (idempotent).

    Raises:
        RuntimeFailure: the database cannot be reached or the migration fails.
    """
    try:
        command.upgrade(_alembic_config(engine), "head")
    except SQLAlchemyError as exc:
        raise RuntimeFailure(f"cannot migrate database {public_url(str(engine.url))!r}: "
                             f"{type(exc).__name__}: {exc.args[0] if exc.args else ''}; "
                             "check that it is running and reachable") from exc


def open_store(url: str | None = None, *, migrate: bool = True) -> sessionmaker[Session]:
    """An engine's session factory, with the schema upgraded first unless ``migrate=False``."""
    engine = make_engine(url)
    if migrate:
        try:
            upgrade(engine)
        except BaseException:
            engine.dispose()
            raise
    return sessionmaker(engine, expire_on_commit=False)


def close_store(sessions: sessionmaker[Session]) -> None:
    """Close every pooled connection of the engine behind ``sessions`` (idempotent).

    Sessions made afterwards still work: the pool reconnects on demand.
    """
    engine = sessions.kw.get("bind")
    if isinstance(engine, Engine):
        engine.dispose()
