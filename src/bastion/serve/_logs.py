"""uvicorn's logging for Bastion's servers: its access log without query strings.

A client that puts its key in the query string (``?api_key=bst-...``, as some SDKs allow)
was refused, but the access log kept the full, still valid key. The gateway and the API
read no query parameters, so the access log shows the path alone and marks that a query
was cut.
"""

from __future__ import annotations

import copy
import logging
from typing import Any


class DropQuery(logging.Filter):
    """Replaces the query string of uvicorn access-log records with ``?…``."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's path argument (uvicorn passes it as the third)."""
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str) \
                and "?" in args[2]:
            record.args = (*args[:2], args[2].split("?", 1)[0] + "?…", *args[3:])
        return True


def log_config() -> dict[str, Any]:
    """uvicorn's default logging config, with the query filter on its access log and
    Bastion's own messages (readiness, auth mode) going where uvicorn's go."""
    import uvicorn.config  # noqa: PLC0415 - the server is needed only when serving

    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    config.setdefault("filters", {})["drop_query"] = {"()": DropQuery}
    config["handlers"]["access"]["filters"] = ["drop_query"]
    config["loggers"]["bastion"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config
