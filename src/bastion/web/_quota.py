"""A per-user quota on the costly actions of the web app.

Some views run real work for each request: the policy playground runs the classifier, the
co-pilot's threat-intel digest may call a paid LLM endpoint, its code scan runs the scanners
over an upload, and a finding's verification sends a probe to the target. Any user holding
the permission, an outside red-teamer included, could script them without limit; this quota
(``WebSettings.costly_actions_per_minute``, one bucket per user across all of them) answers
429 past it.
"""

from __future__ import annotations

from fastapi import HTTPException
from starlette.requests import Request

from bastion.web._context import web_context
from bastion.web._guard import Identity


def spend_costly(request: Request, me: Identity, action: str) -> None:
    """Count one costly ``action`` for the caller.

    Raises:
        HTTPException: 429 (with ``Retry-After``) when the caller's quota is spent.
    """
    ctx = web_context(request)
    who = me.user.id if me.user is not None else (
        request.client.host if request.client else "unknown")
    if not ctx.login_limiter.hit(ctx.costly_rate, "web-costly", who):
        raise HTTPException(429, f"you have run {ctx.settings.costly_actions_per_minute} "
                                 "costly actions (playground runs, digests, code scans, "
                                 f"verifications) in the last minute, the most allowed, so "
                                 f"this {action} did not run; wait a minute and try again",
                            headers={"Retry-After": "60"})
