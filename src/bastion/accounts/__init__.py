"""Accounts, API keys, roles and scopes, rate limits, and abuse monitoring."""

from bastion.accounts._abuse import (
    OBFUSCATION_SIGNALS,
    AbuseDecision,
    AbuseMonitor,
    AbuseSettings,
    Level,
    margin,
)
from bastion.accounts._counters import (
    BlockHistory,
    MemoryStrikeStore,
    RedisStrikeStore,
    StrikeStore,
    strike_store,
)
from bastion.accounts._keys import (
    KEY_PREFIX,
    PROXY_ROUTES,
    ROLE_ROUTES,
    ROLES,
    Role,
    hashed_account_id,
    key_digest,
    new_key,
)
from bastion.accounts._limits import RateLimiter, Refusal
from bastion.accounts._model import AccountInfo, KeyInfo, Principal, Scopes
from bastion.accounts._similar import fingerprint, similarity
from bastion.accounts._sqlstrikes import SqlStrikeStore
from bastion.accounts._store import AccountStore

__all__ = [
    "KEY_PREFIX",
    "OBFUSCATION_SIGNALS",
    "PROXY_ROUTES",
    "ROLES",
    "ROLE_ROUTES",
    "AbuseDecision",
    "AbuseMonitor",
    "AbuseSettings",
    "AccountInfo",
    "AccountStore",
    "BlockHistory",
    "KeyInfo",
    "Level",
    "MemoryStrikeStore",
    "Principal",
    "RateLimiter",
    "RedisStrikeStore",
    "Refusal",
    "Role",
    "Scopes",
    "SqlStrikeStore",
    "StrikeStore",
    "fingerprint",
    "hashed_account_id",
    "key_digest",
    "margin",
    "new_key",
    "similarity",
    "strike_store",
]
