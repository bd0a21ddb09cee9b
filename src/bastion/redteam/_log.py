"""The campaign log: JSON Lines, one header then one line per finished attempt.

Appending one flushed line per attempt makes a campaign resumable after a crash or Ctrl-C:
re-running with the same log skips attempts already finished (attempts that ended in an error
are tried again). A log belongs to one campaign: resuming with different settings is refused.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO, Any

from bastion.errors import ConfigError, InputError
from bastion.redteam._config import SPEED_SETTINGS
from bastion.redteam._types import Attempt

LOG_VERSION = 1


def read_log(path: Path) -> tuple[dict[str, Any], list[Attempt]]:
    """(header, attempts) of a log; a torn last line (crash mid-write, no newline) is ignored.

    An attempt logged again (an error retried on resume) supersedes its earlier line: each
    id appears once, where it was first logged, with its latest outcome.

    Raises:
        InputError: the file cannot be read, or a line (other than a torn last one) is not
            a campaign header or a whole attempt; the message names the line.
    """
    header: dict[str, Any] = {}
    attempts: dict[str, Attempt] = {}
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read campaign log {str(path)!r}: {exc}") from exc
    lines = text.splitlines()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except RecursionError as exc:  # JSON nested thousands deep: no log line of ours
            raise InputError(f"{path}:{number}: not JSON (nested too deeply to read, so not a "
                             "line Bastion wrote); the log is damaged: fix or delete that "
                             "line") from exc
        except json.JSONDecodeError as exc:
            if number == len(lines) and not text.endswith("\n"):
                break
            raise InputError(f"{path}:{number}: not JSON ({exc}); the log is damaged: fix or "
                             "delete that line") from exc
        kind = row.get("type") if isinstance(row, dict) else None
        if kind == "campaign":
            header = row
        elif kind == "attempt":
            attempt = _attempt(row, f"{path}:{number}")
            attempts[attempt.id] = attempt
        else:
            before = "" if header else "; no campaign header came before it"
            raise InputError(f"{path}:{number}: not a Bastion campaign log line (each has a "
                             f"'type' of 'campaign' or 'attempt'{before}); fix or delete that "
                             "line, or pass the file 'bastion redteam run --log' wrote")
    return header, list(attempts.values())


def _attempt(row: dict[str, Any], where: str) -> Attempt:
    try:
        return Attempt.from_dict(row["attempt"])
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InputError(f"{where}: not a Bastion campaign log attempt ({type(exc).__name__}: "
                         f"{exc}); fix or delete that line") from exc


def _changed(old: dict[str, Any], new: dict[str, Any]) -> str:
    """Which settings differ between a log's header and this campaign's, in words."""
    before, now = old.get("config") or {}, new.get("config") or {}
    keys = sorted(k for k in {*before, *now} - set(SPEED_SETTINGS) if before.get(k) != now.get(k))
    if keys:
        return f"settings changed: {', '.join(keys)}"
    # Same public settings, other fingerprint: an older Bastion hashed credentials too.
    return ("the log's fingerprint was made by an older Bastion, which hashed credentials "
            "with the settings")


def _drop_torn_tail(path: Path) -> None:
    """Cut a last line that a crash left without its newline, so appends start clean."""
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        path.write_bytes(data[: data.rfind(b"\n") + 1])


class CampaignLog:
    """Appends attempts to a JSONL file; later attempts with the same id supersede earlier ones.

    Args:
        path: the log file.
        header: campaign metadata (config, fingerprint, target secrets' count ...).
        resume: continue an existing log with the same fingerprint instead of refusing.
    """

    def __init__(self, path: Path, header: dict[str, Any], *, resume: bool = True) -> None:
        self.path = path
        self.done: dict[str, Attempt] = {}
        if path.exists() and path.stat().st_size:
            old, attempts = read_log(path)
            if not resume or old.get("fingerprint") != header.get("fingerprint"):
                raise ConfigError(f"log {str(path)!r} belongs to a different campaign "
                                  f"({_changed(old, header)}); pass a new --log path, or the "
                                  "settings the log was started with")
            self.done = {a.id: a for a in attempts if a.error is None}
            _drop_torn_tail(path)
            self._file: IO[str] = path.open("a", encoding="utf-8")
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file = path.open("w", encoding="utf-8")
            self._write({"type": "campaign", "version": LOG_VERSION, **header})

    def _write(self, row: dict[str, Any]) -> None:
        self._file.write(json.dumps(row, ensure_ascii=True, default=str) + "\n")
        self._file.flush()

    def append(self, attempt: Attempt) -> None:
        """Record a finished attempt."""
        self._write({"type": "attempt", "attempt": attempt.to_dict()})

    def close(self) -> None:
        """Close the file."""
        self._file.close()
