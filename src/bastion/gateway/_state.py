"""The gateway's long-lived parts, built once per process and shared by every request."""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import os
import secrets
import sys
import time
from collections import Counter, OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Literal

import anyio.to_thread
import httpx

from bastion.accounts import (
    AbuseMonitor,
    AccountStore,
    Principal,
    RateLimiter,
    StrikeStore,
    key_digest,
    strike_store,
)
from bastion.gateway._config import GatewayConfig, RouteName
from bastion.gateway._guard import Guard
from bastion.gateway._live import LivePolicies
from bastion.gateway._order import CheckOrder
from bastion.monitor import (
    AuditLog,
    AuditWriter,
    FileAnchor,
    LiveMonitor,
    Metrics,
    Watcher,
    Webhook,
    audit_key,
)
from bastion.policy import Policy, Severity
from bastion.policy.store import PolicyStore
from bastion.redact import Detectors
from bastion.store import open_store

logger = logging.getLogger("bastion.gateway")

#: Most keys a worker remembers having found valid (a digest each; see ``Gateway.known``).
KNOWN_KEYS = 65_536

ROUTES: tuple[RouteName, ...] = ("chat", "completions", "embeddings", "moderations",
                                 "responses")


def _quiet_hot_path() -> None:
    """Process-wide tweaks that keep per-request overhead off the gateway's hot path.

    httpcore runs ``import sniffio`` on every request; when the package is absent each failed
    import searches ``sys.path`` again (about 0.3 ms, several times per request). Recording
    the absence once makes it fail fast, exactly as before. And httpx logs every upstream
    request at INFO, which some dependencies switch on for the root logger at import time.
    """
    if "sniffio" not in sys.modules and importlib.util.find_spec("sniffio") is None:
        sys.modules["sniffio"] = None  # type: ignore[assignment] # None marks "not installed"
    logging.getLogger("httpx").setLevel(logging.WARNING)


class Gateway:
    """Config, policies, classifier, upstream client, accounts, limits, abuse, audit, metrics.

    Lifetime: built by :func:`~bastion.gateway.create_app`; :meth:`close` at shutdown.
    Concurrency: every part is safe for concurrent requests on one event loop.
    Failure: construction raises ConfigError/PolicyError for bad settings; the database is
    migrated at start, and a database that cannot be reached raises RuntimeFailure.
    """

    def __init__(self, config: GatewayConfig, *, strikes: StrikeStore | None = None) -> None:
        _quiet_hot_path()
        self.config = config
        self.guard = Guard(config.classifier)
        self.order = CheckOrder(config.abuse.order_wait_s)
        self.metrics = Metrics()
        self.sessions = sessions = open_store(config.database_url)
        log = self._audit_log()
        names = dict.fromkeys(config.policy_for(route, direction) for route in ROUTES
                              for direction in ("input", "output"))
        self.live_policies = LivePolicies(names, PolicyStore(sessions, audit=log),
                                 every_s=config.policy_reload_s, warm=self._went_live)
        self.accounts = AccountStore(sessions, audit=log)
        self.audit = AuditWriter(log, max_pending=config.audit.max_pending,
                                 on_written=self.metrics.audit_written.inc,
                                 linger_s=config.audit.linger_s)
        self.monitor = self._monitor(log)
        limits = config.limits
        self.limiter = RateLimiter(
            config.redis_url, requests_per_minute=limits.requests_per_minute,
            tokens_per_minute=limits.tokens_per_minute,
            account_requests_per_minute=limits.account_requests_per_minute,
            account_tokens_per_minute=limits.account_tokens_per_minute)
        self.abuse = AbuseMonitor(config.abuse,
                                  strikes or strike_store(config.redis_url, sessions),
                                  self._severities())
        self.detectors = Detectors(config.redact.phone_region)
        self.identity_secret = self._identity_secret()
        self.upstream = self._client()
        self._auth_cache: dict[str, tuple[float, Principal | None]] = {}
        self._auth_pending: dict[str, asyncio.Future[Principal | None]] = {}
        self._known: OrderedDict[str, None] = OrderedDict()  # digests, last found valid last
        # the lock of each address with key checks waiting, and how many wait
        self._checking: dict[str, tuple[asyncio.Lock, list[int]]] = {}
        #: Requests in progress per account id (``limits.account_concurrent_requests``).
        self.in_progress: Counter[str] = Counter()
        self.live_policies.load()  # versions published before this start replace configured ones

    @property
    def policies(self) -> dict[str, Policy]:
        """The policies in use, by configured name (replaced whole when one is published)."""
        return self.live_policies.current

    def policy(self, route: str, direction: Literal["input", "output"]) -> Policy:
        """The policy a route checks one direction with now."""
        return self.live_policies.current[self.config.policy_for(route, direction)]

    async def refresh_policies(self) -> None:
        """Pick up versions published in the policy store (at most once per reload period)."""
        await self.live_policies.refresh()

    def _went_live(self, policy: Policy) -> None:
        self.guard.warm(policy)
        self.abuse.severities.update({c.code: c.severity for c in policy.categories})

    def _audit_log(self) -> AuditLog:
        settings = self.config.audit
        key = audit_key(settings.key_env)
        anchor = FileAnchor(settings.anchor_path, key) if settings.anchor_path else None
        if key is None:
            logger.warning("$%s is not set: the audit chain is not keyed, so someone with write "
                           "access to the database could rewrite it%s; set it (the same on "
                           "every worker)", settings.key_env,
                           "" if anchor else " undetected (no audit.anchor_path either)")
        elif anchor is None:
            logger.warning("audit.anchor_path is not set: the audit chain is keyed, but someone "
                           "with write access to the database could delete its newest events "
                           "and move its head back to an earlier signed one undetected; set it "
                           "to a file the database's writers cannot write")
        log = AuditLog(self.sessions, key=key, anchor=anchor,
                       anchor_every_s=settings.anchor_every_s)
        log.check_key(settings.key_env)
        return log

    def _monitor(self, log: AuditLog) -> AuditWriter | None:
        settings = self.config.monitor
        self.live_monitor: LiveMonitor | None = None
        if not settings.enabled:
            return None
        webhook = (Webhook.from_env(settings.webhook_url, settings.webhook_secret_env)
                   if settings.webhook_url else None)
        live = self.live_monitor = LiveMonitor(
            self.sessions, audit=log, webhook=webhook,
            watcher=Watcher(settings=settings.detectors) if settings.detect else None,
            samples=self.config.audit.content == "redact")
        return AuditWriter(live, max_pending=settings.max_pending, linger_s=settings.linger_s)

    def _severities(self) -> dict[str, Severity]:
        return {c.code: c.severity for p in self.policies.values() for c in p.categories}

    def _identity_secret(self) -> str:
        secret = os.environ.get(self.config.identity_secret_env)
        if secret:
            return secret
        logger.warning("$%s is not set: upstream account pseudonyms and the tags of Responses "
                       "ids use a random secret and change when the gateway restarts (a "
                       "previous_response_id from before is then refused); set it (the same "
                       "value on every worker) to keep them stable",
                       self.config.identity_secret_env)
        return secrets.token_hex(32)

    def _client(self) -> httpx.AsyncClient:
        up = self.config.upstream
        headers = {}
        if up.api_key_env:
            key = os.environ.get(up.api_key_env)
            if key:
                headers["authorization"] = f"Bearer {key}"
        timeout = httpx.Timeout(up.read_timeout_s, connect=up.connect_timeout_s)
        limits = httpx.Limits(max_connections=up.max_connections,
                              max_keepalive_connections=up.max_connections,
                              keepalive_expiry=up.keepalive_expiry_s)
        return httpx.AsyncClient(base_url=up.base_url.rstrip("/") + "/", headers=headers,
                                 timeout=timeout, limits=limits)

    async def principal(self, key: str) -> Principal | None:
        """The principal of a key, looked up at most once per ``auth_cache_s``.

        Concurrent requests with the same key share one lookup, so a burst of requests does
        not become a burst of database queries. Lookups are remembered under the key's
        digest, never the key as sent: unknown keys of 30 KB each, remembered whole, held
        300 MB (a black-box pass), and no key stays in memory.
        """
        now, digest = time.monotonic(), key_digest(key)
        cached = self._auth_cache.get(digest)
        if cached is not None and now - cached[0] < self.config.auth_cache_s:
            return cached[1]
        pending = self._auth_pending.get(digest)
        if pending is None:
            pending = asyncio.ensure_future(self._lookup(key, digest, now))
            self._auth_pending[digest] = pending
            pending.add_done_callback(lambda _: self._auth_pending.pop(digest, None))
        found = await asyncio.shield(pending)
        if found is not None:
            self._known[digest] = None
            self._known.move_to_end(digest)
            if len(self._known) > KNOWN_KEYS:
                self._known.popitem(last=False)
        return found

    @asynccontextmanager
    async def one_check_at_a_time(self, client: str) -> AsyncIterator[None]:
        """Hold the checks of keys this worker does not know from one address to one at a
        time, so parallel guesses cannot all be looked up before the first failure counts."""
        entry = self._checking.setdefault(client, (asyncio.Lock(), [0]))
        entry[1][0] += 1
        try:
            async with entry[0]:
                yield
        finally:
            entry[1][0] -= 1
            if not entry[1][0]:
                del self._checking[client]

    def known(self, key: str) -> bool:
        """Whether this worker has found ``key`` valid before (revoked since or not): such a
        key is looked up even from an address over its failed-check limit, so an attacker
        who shares a real caller's address cannot lock that caller out. A guessed key is
        never one."""
        return key_digest(key) in self._known

    async def _lookup(self, key: str, digest: str, now: float) -> Principal | None:
        found = await anyio.to_thread.run_sync(self.accounts.authenticate, key)
        if len(self._auth_cache) > 10_000:
            self._auth_cache.clear()
        self._auth_cache[digest] = (now, found)
        return found

    def forget(self, account_id: str) -> None:
        """Drop cached lookups of an account (after suspending it)."""
        for key, (_, found) in list(self._auth_cache.items()):
            if found is not None and found.account.id == account_id:
                del self._auth_cache[key]

    async def close(self) -> None:
        """Flush the audit queue and close connections (database last: the flush needs it)."""
        await self.audit.flush()
        self.audit.close()
        if self.monitor is not None:
            await self.monitor.flush()
            self.monitor.close()
        await self.upstream.aclose()
        await self.abuse.store.close()
        await self.limiter.close()
