"""Keep one-time tokens out of the server's access log.

A set-password link (``/set-password?token=...``) is a credential for seven days: whoever
reads it first can set the password. uvicorn's access log (on at ``bastion web run``'s
``info`` level) writes each request's path with its query string, so the filter here masks
the values of credential-like query parameters before a line is written.
"""

from __future__ import annotations

import logging
import re

ACCESS_LOGGER = "uvicorn.access"
_SECRET_PARAMS = re.compile(r"(?i)([?&](?:token|key|api_key|secret|password|code)=)[^&\s]*")


def mask_query(path: str) -> str:
    """``path`` with the values of credential-like query parameters replaced by ``***``."""
    return _SECRET_PARAMS.sub(r"\1***", path)


class MaskedQueries(logging.Filter):
    """Masks token-like query values in uvicorn's access-log records (their third argument
    is the path with the query string)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's path argument; never drops a record."""
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], mask_query(args[2]), *args[3:])
        return True


def mask_access_log() -> None:
    """Install :class:`MaskedQueries` on uvicorn's access logger (once per process)."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, MaskedQueries) for f in logger.filters):
        logger.addFilter(MaskedQueries())
