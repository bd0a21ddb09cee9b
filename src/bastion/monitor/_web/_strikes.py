"""Accounts' abuse standing as the gateway's abuse monitor keeps it: strike score and level.

The gateway adds severity-weighted strikes per violation to a decaying score in its strike
store (Redis when it has a ``redis_url``, else the database) and maps the score to a level
(``ok`` < ``warn`` < ``throttle`` < ``suspend``). The dashboard reads the same store with the
same settings (``WebSettings.strikes_url`` and ``WebSettings.abuse`` must match the gateway's
``redis_url`` and ``abuse``), so what it shows is what the gateway acts on — not a count of
blocked prompts, which is a different number (a flag, an obfuscated retry or a burst weighs
differently; strikes decay).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import anyio.from_thread

from bastion.accounts import AbuseMonitor, AbuseSettings, Level, StrikeStore, strike_store
from bastion.errors import RuntimeFailure

logger = logging.getLogger("bastion.monitor")


@dataclass(frozen=True)
class Standing:
    """One account's strike score now (decayed) and the level it reaches."""

    score: float
    level: Level


class Strikes:
    """Reads strike scores (one per web app, via ``WebContext.service``).

    Concurrency: :meth:`standings` is called from a request's worker thread; it runs the
    store's async reads on the app's event loop. Failure: a store that cannot be reached
    gives no standings (logged), and the pages say so.
    """

    def __init__(self, store: StrikeStore, settings: AbuseSettings) -> None:
        self.store, self.settings = store, settings
        self.monitor = AbuseMonitor(settings, store, {})

    @classmethod
    def of(cls, ctx: Any) -> Strikes:
        """Build from a :class:`~bastion.web.WebContext` (its settings name the store)."""
        return cls(strike_store(ctx.settings.strikes_url, ctx.sessions), ctx.settings.abuse)

    def standings(self, accounts: Sequence[str], now: float | None = None,
                  ) -> dict[str, Standing] | None:
        """Each account's standing at ``now``; ``None`` when the store is unavailable."""
        at = time.time() if now is None else now
        try:
            return anyio.from_thread.run(self._standings, list(accounts), at)
        except RuntimeFailure as exc:
            logger.error("strike scores could not be read: %s", exc)  # noqa: TRY400 - one line
            return None

    async def _standings(self, accounts: list[str], now: float) -> dict[str, Standing]:
        out = {}
        for account in accounts:
            score = await self.store.score(account, now, self.settings.half_life_s)
            out[account] = Standing(round(score, 1), self.monitor.level_of(score))
        return out
