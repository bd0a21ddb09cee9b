"""Monitoring fixtures: stores on SQLite and a real PostgreSQL, event builders."""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from bastion.monitor import MonitorEvent

T0 = 1_767_225_600.0


def event(at: float, account: str | None = "acct_a", *, decision: str = "pass",
          n: int = 0, **fields: Any) -> MonitorEvent:
    """An input event at ``T0 + at`` seconds."""
    return MonitorEvent(T0 + at, fields.pop("request_id", f"req-{account}-{at}-{n}"),
                        account, fields.pop("key_id", f"key_{account}"),
                        decision=decision, **fields)


def background(minutes: int, *, per_minute: int = 20, accounts: int = 40,
               start: float = 0.0) -> list[MonitorEvent]:
    """Quiet traffic: many accounts, a block now and then, steady latency."""
    rng = np.random.default_rng(7)
    out = []
    for minute in range(minutes):
        for n in range(per_minute):
            at = start + minute * 60 + n * 60 / per_minute
            blocked = rng.random() < 0.01
            out.append(event(at, f"acct_{int(rng.integers(accounts))}", n=n,
                             decision="block" if blocked else "pass",
                             categories=("HAT",) if blocked else (),
                             latency_ms=float(rng.lognormal(np.log(25), 0.2))))
    return out


def hash_embed(texts: list[str]) -> np.ndarray:
    """Unit vectors equal for equal texts after their first ``|`` (a stand-in for the model)."""
    rows = []
    for text in texts:
        seed = int(hashlib.sha256(text.split("|")[0].encode()).hexdigest()[:8], 16)
        vector = np.random.default_rng(seed).normal(size=384)
        rows.append(vector / np.linalg.norm(vector))
    return np.asarray(rows, np.float32)
