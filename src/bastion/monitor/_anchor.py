"""What keeps the audit chain honest against someone who can write to the database.

Two things live outside the database:

* the **audit key** (``$BASTION_AUDIT_KEY``): every event and the head row carry an HMAC of
  their hash under it, so an edited event, a recomputed chain or a moved head cannot be made
  to verify without the key;
* the **anchor**, an append-only file of checkpoints (``{"seq", "hash", "at", "mac"}`` per
  line, the ``mac`` keyed when there is a key): every checkpoint must still be in the chain,
  so deleting the newest events, rolling the database back, or rewriting the chain behind a
  checkpoint is caught even without the key.

Keep the anchor where the database's writers cannot write (another volume, a WORM bucket, a
log shipper) and the key in a secret store.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bastion.errors import ConfigError

KEY_ENV = "BASTION_AUDIT_KEY"
ANCHOR_ENV = "BASTION_AUDIT_ANCHOR"
MIN_KEY_CHARS = 16


def audit_key(env: str = KEY_ENV, environ: dict[str, str] | None = None) -> bytes | None:
    """The audit key from the environment variable ``env`` (``None`` when unset).

    Raises:
        ConfigError: the key is set but shorter than 16 characters.
    """
    value = (os.environ if environ is None else environ).get(env)
    if not value:
        return None
    if len(value) < MIN_KEY_CHARS:
        raise ConfigError(f"${env} holds a {len(value)}-character audit key; use at least "
                          f"{MIN_KEY_CHARS} random characters (e.g. 'openssl rand -hex 32')")
    return value.encode("utf-8")


def mac(key: bytes, kind: str, seq: int, digest: str) -> str:
    """The HMAC-SHA256 of ``kind:seq:digest``; ``kind`` keeps events, head and anchor apart."""
    return hmac.new(key, f"{kind}:{seq}:{digest}".encode("ascii"), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Checkpoint:
    """One anchor line: the chain had event ``seq`` with ``hash`` at time ``at``."""

    seq: int
    hash: str
    at: str
    mac: str | None


class FileAnchor:
    """An append-only file of checkpoints.

    Lifetime: any number per process and across processes; each checkpoint is one ``write``
    of one line to a file opened with ``O_APPEND``, so several workers may share the file.
    Failure: ``record`` raises ``OSError`` (the caller logs it); ``read`` reports lines it
    cannot parse as ``None`` so the verifier can name them.
    """

    def __init__(self, path: str | Path, key: bytes | None = None) -> None:
        self.path = Path(path)
        self.key = key

    def record(self, seq: int, digest: str) -> None:
        """Append a checkpoint for event ``seq`` whose hash is ``digest``."""
        line = json.dumps({"seq": seq, "hash": digest, "at": datetime.now(UTC).isoformat(),
                           "mac": mac(self.key, "anchor", seq, digest) if self.key else None},
                          sort_keys=True) + "\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            os.write(fd, line.encode("ascii"))
        finally:
            os.close(fd)

    def read(self) -> list[Checkpoint | None]:
        """Every checkpoint in the file, oldest first (``None`` for an unreadable line)."""
        if not self.path.exists():
            return []
        out: list[Checkpoint | None] = []
        for line in self.path.read_text(encoding="ascii", errors="replace").splitlines():
            try:
                data = json.loads(line)
                out.append(Checkpoint(int(data["seq"]), str(data["hash"]), str(data["at"]),
                                      data.get("mac")))
            except (ValueError, KeyError, TypeError):
                out.append(None)
        return out
