"""Authentication: the key of ``Authorization: Bearer <key>``, looked up, and failed key
checks counted per client address (``limits.failed_auth_per_minute``)."""

from __future__ import annotations

import ipaddress
import logging
from datetime import UTC, datetime

from fastapi import Request

from bastion.accounts import Principal
from bastion.errors import RuntimeFailure
from bastion.gateway._context import Context
from bastion.gateway._respond import GatewayError
from bastion.serve import BearerError, read_bearer

logger = logging.getLogger("bastion.gateway")


def _bearer(request: Request) -> str:
    """The key of ``Authorization: Bearer <key>``; a 400 or 401 that says what is wrong
    otherwise (see :func:`bastion.serve.read_bearer`)."""
    try:
        key = read_bearer(request.headers.getlist("authorization"))
    except BearerError as exc:
        if exc.status == 400:
            raise GatewayError(400, f"{exc.problem}, 'Authorization: Bearer <key>'",
                               code="invalid_request") from None
        problem = exc.problem
    else:
        if key is not None:
            return key
        problem = "missing API key"
    raise GatewayError(401, f"{problem}; send 'Authorization: Bearer <key>' with a key "
                       "from 'bastion keys create'", code="invalid_api_key",
                       headers={"WWW-Authenticate": "Bearer"})


async def _principal(ctx: Context, key: str) -> Principal:
    try:
        principal = await ctx.gateway.principal(key)
    except Exception as exc:  # the account store is down: refuse clearly, keep serving others
        logger.error("account lookup failed: %s", type(exc).__name__)  # noqa: TRY400 - no key in the log
        raise GatewayError(503, "the account store is unavailable, so the key cannot be "
                           "checked; retry shortly", code="account_store_unavailable",
                           headers={"Retry-After": "2"}) from exc
    if principal is None:
        raise GatewayError(401, "the API key is unknown or revoked; ask an administrator "
                           "for a new one", code="invalid_api_key")
    if principal.key.expired(datetime.now(UTC)):  # a lookup cached just before it expired
        raise GatewayError(401, "the API key has expired (its engagement ended); ask an "
                           "administrator for a new one", code="invalid_api_key")
    return principal


def client_address(request: Request) -> str | None:
    """Who is calling, as failed key checks are counted: the client's address (the one the
    trusted proxies name, see ``--proxy``), an IPv6 address as its /64 (one host's share)."""
    if request.client is None:
        return None
    try:
        address = ipaddress.ip_address(request.client.host)
    except ValueError:
        return request.client.host or None
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


async def authenticate(ctx: Context, request: Request) -> Principal:
    """The caller's principal; past ``limits.failed_auth_per_minute`` failed key checks from
    its address, a 429 without a lookup unless the key is one found valid before."""
    key, gateway = _bearer(request), ctx.gateway
    limit, client = gateway.config.limits.failed_auth_per_minute, client_address(request)
    if limit is None or client is None or gateway.known(key):
        return await _principal(ctx, key)
    async with gateway.one_check_at_a_time(client):
        return await _counted(ctx, key, client, limit)


async def _counted(ctx: Context, key: str, client: str, limit: int) -> Principal:
    """The principal of a key from ``client``, with its failed checks counted."""
    gateway = ctx.gateway
    try:
        refusal = await gateway.limiter.failed_auth(client, limit)
    except RuntimeFailure:  # a guard against guessing, not access control: keys still work
        logger.exception("failed key checks could not be read; the key is looked up")
        refusal = None
    if refusal is not None:
        ctx.extra["client"] = client
        gateway.metrics.rate_limited.labels("failed_auth").inc()
        raise GatewayError(429, f"too many failed key checks: {refusal.reason}; retry after "
                           f"{refusal.retry_after_s} s with a valid key",
                           code="auth_rate_limited",
                           headers={"Retry-After": str(refusal.retry_after_s)})
    try:
        return await _principal(ctx, key)
    except GatewayError as exc:
        if exc.status == 401:  # unknown, revoked or expired: the audit says from where
            ctx.extra["client"] = client
            try:
                await gateway.limiter.count_failed_auth(client, limit)
            except RuntimeFailure:
                logger.exception("a failed key check was not counted")
        raise


def limits_down(exc: RuntimeFailure) -> GatewayError:
    """The 503 for a rate limit store that failed (logged, without the request's key)."""
    logger.error("rate limit check failed: %s", exc)
    return GatewayError(503, "the rate limit store is unavailable, so the request cannot be "
                        "admitted; retry shortly", code="rate_limit_store_unavailable",
                        headers={"Retry-After": "2"})
