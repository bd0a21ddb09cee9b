"""Alembic environment: runs against the engine Bastion passes in ``config.attributes``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from bastion.store._models import Base

_engine = context.config.attributes.get("engine")
if not isinstance(_engine, Engine):  # pragma: no cover - only Bastion runs these migrations
    raise TypeError("run Bastion migrations through bastion.store.upgrade(engine)")

with _engine.connect() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata,
                      render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
