"""uvicorn's logging for Bastion's servers: an access log that holds no secret.

A client that puts its key in the query string (``?api_key=bst-...``, as some SDKs allow)
was refused, but the access log kept the full, still valid key. The gateway and the API
read no query parameters, so the access log shows the path alone and marks that a query
was cut. A key can sit in the path too: a client whose base URL holds its key, as some
providers' URLs do (``/v1/sk-.../chat/completions``), got a 404 and an access-log line with
the key whole.

So the log shows a path's shape, not its values: every route of these servers is made of
short words (``/v1/chat/completions``), and any other segment is written ``***``. An
allow-list rather than the secret detector: it also hides keys of formats no detector
knows, and it costs microseconds where the detector took up to 5 ms on a 200-character path
(the line is written on the event loop, for every request, unauthenticated ones included).
"""

from __future__ import annotations

import copy
import logging
import re
import urllib.parse
from typing import Any

MASK = "***"
"""What the access log writes for a path segment that is not a short word."""

MOST_CHARS = 200
"""The longest path read; a longer one is cut after its last whole segment within it."""

#: A segment shown as it is: a word of up to 11 letters, or an API version (``v1``). Keys,
#: tokens, card numbers and e-mail addresses all need digits, punctuation or more letters.
_WORD = re.compile(r"[A-Za-z]{1,11}|v\d{1,2}")


def scrub_path(path: str) -> str:
    """``path`` as the access log may show it: without its query string (``?…`` marks one),
    cut at a ``/`` past :data:`MOST_CHARS` (``/…``), and each segment that is not a short
    word written as :data:`MASK`."""
    path, query, _ = path.partition("?")
    cut = len(path) > MOST_CHARS
    if cut:
        path = path[:MOST_CHARS].rsplit("/", 1)[0]
    shown = "/".join(part if not part or _WORD.fullmatch(part) else MASK
                     for part in path.split("/"))
    return shown + ("/…" if cut else "") + ("?…" if query else "")


def redacted_url(url: str) -> str:
    """A configured URL (an upstream's) as a log line may show it: its credentials
    (``user:password@``, or a token as the user) written :data:`MASK`, its query string cut
    (``?…``). ``gateway run`` printed ``-> http://user:PASSWORD@host/v1?key=...`` at start."""
    parts = urllib.parse.urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    netloc = f"{MASK}@{host}" if "@" in parts.netloc else host
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", "")) \
        + ("?…" if "?" in url else "")


class DropQuery(logging.Filter):
    """Writes the path of uvicorn's access-log records as :func:`scrub_path` does."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's path argument (uvicorn passes it as the third)."""
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], scrub_path(args[2]), *args[3:])
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
