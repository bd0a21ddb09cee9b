"""Storage: SQLAlchemy 2 models, engines (SQLite in WAL mode, PostgreSQL) and migrations.

Lifetime: one engine (and session factory) per process, made by :func:`open_store`; sessions
are short-lived, one per unit of work. Sessions are not shared between threads.
"""

from bastion.store._engine import (
    DATABASE_URL_ENV,
    DEFAULT_URL,
    close_store,
    database_url,
    make_engine,
    open_store,
    upgrade,
)
from bastion.store._models import (
    AbuseMark,
    AbuseScore,
    Account,
    ApiKey,
    AuditEvent,
    AuditHead,
    Base,
    utcnow,
)

__all__ = [
    "DATABASE_URL_ENV",
    "DEFAULT_URL",
    "AbuseMark",
    "AbuseScore",
    "Account",
    "ApiKey",
    "AuditEvent",
    "AuditHead",
    "Base",
    "close_store",
    "database_url",
    "make_engine",
    "open_store",
    "upgrade",
    "utcnow",
]
