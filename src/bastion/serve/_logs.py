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

``gateway run`` and ``bastion serve`` pass :func:`log_config` to uvicorn; an app served by
uvicorn directly gets its filter from its factory (:func:`scrub_access_log`). The web app
keeps more of a request (its ids, and query values that hold no secret) through the same
functions, with its own rules (``bastion.web._accesslog``).
"""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import Callable
from typing import Any

from bastion._urls import public_url

MASK = "***"
"""What the access log writes for a path segment that is not a short word."""

MOST_CHARS = 200
"""The longest path read; a longer one is cut after its last whole segment within it."""

ACCESS_LOGGER = "uvicorn.access"
"""uvicorn's access logger, whose records :class:`ScrubPaths` rewrites."""

#: A segment shown as it is: a word of up to 11 letters, or an API version (``v1``). Keys,
#: tokens, card numbers and e-mail addresses all need digits, punctuation or more letters.
_WORD = re.compile(r"[A-Za-z]{1,11}|v\d{1,2}")


def is_word(segment: str) -> bool:
    """Whether a path segment is a short word (``completions``) or an API version (``v1``)."""
    return _WORD.fullmatch(segment) is not None


def scrub_path(path: str, keep: Callable[[str], bool] = is_word,
               query: Callable[[str], str] | None = None) -> str:
    """``path`` as the access log may show it: cut at a ``/`` past :data:`MOST_CHARS`
    (``/…``), each segment that ``keep`` refuses written as :data:`MASK`, and its query
    string cut (``?…``), or shown as ``query`` writes it."""
    path, mark, rest = path.partition("?")
    cut = len(path) > MOST_CHARS
    if cut:
        path = path[:MOST_CHARS].rsplit("/", 1)[0]
    shown = "/".join(part if not part or keep(part) else MASK for part in path.split("/"))
    shown += "/…" if cut else ""
    if not (mark and rest):
        return shown
    return shown + "?" + (query(rest) if query is not None else "…")


def redacted_url(url: str) -> str:
    """A configured URL (an upstream's) as a log line may show it: its whole userinfo
    (``user:password@``, or a token as the user) written :data:`MASK`, its query string cut
    (``?…``). ``gateway run`` printed ``-> http://user:PASSWORD@host/v1?key=...`` at start."""
    return public_url(url, mask=MASK, names=False, query="cut")


class ScrubPaths(logging.Filter):
    """Writes the path of uvicorn's access-log records as ``scrub`` shows it (by default
    :func:`scrub_path`: the shape of the path, no query string)."""

    def __init__(self, scrub: Callable[[str], str] = scrub_path) -> None:
        super().__init__()
        self.scrub = scrub

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's path argument (uvicorn passes it as the third)."""
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], self.scrub(args[2]), *args[3:])
        return True


def scrub_access_log(scrub: Callable[[str], str] = scrub_path) -> None:
    """Put a :class:`ScrubPaths` filter writing paths as ``scrub`` does on uvicorn's access
    logger, for an app served without :func:`log_config` (``uvicorn module:app``).

    One per process: it replaces the one an app built earlier in the process put there (the
    web app's and the gateway's rules differ, and either keeps secrets out), so building an
    app again does not stack filters.
    """
    logger = logging.getLogger(ACCESS_LOGGER)
    for old in [f for f in logger.filters if isinstance(f, ScrubPaths)]:
        logger.removeFilter(old)
    logger.addFilter(ScrubPaths(scrub))


def log_config() -> dict[str, Any]:
    """uvicorn's default logging config, with the query filter on its access log and
    Bastion's own messages (readiness, auth mode) going where uvicorn's go."""
    import uvicorn.config  # noqa: PLC0415 - the server is needed only when serving

    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    config.setdefault("filters", {})["drop_query"] = {"()": ScrubPaths}
    config["handlers"]["access"]["filters"] = ["drop_query"]
    config["loggers"]["bastion"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config
