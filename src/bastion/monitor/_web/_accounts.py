"""Accounts as the abuse monitor sees them: strikes over time, suspensions, reinstatement."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from bastion.accounts import AccountInfo
from bastion.errors import InputError
from bastion.monitor._web._data import timeline, when
from bastion.monitor._web._overview import monitoring
from bastion.monitor._web._strikes import Strikes
from bastion.web import Identity, Permission, flash, render, requires, web_context

router = APIRouter()
Reason = Annotated[str, Form(max_length=2000)]
DAY_S = 86_400


def _account(request: Request, account_id: str) -> AccountInfo:
    try:
        return web_context(request).accounts.account(account_id)
    except InputError as exc:
        raise HTTPException(404, str(exc)) from exc


@router.get("/monitor/accounts", dependencies=[requires(Permission.ABUSE_ACCOUNTS_VIEW)])
def accounts_page(request: Request) -> HTMLResponse:
    """Every account with its status, its strike score and level (as the gateway's abuse
    monitor keeps them), and its blocked prompts and checks in the last 24 hours."""
    since = time.time() - DAY_S
    counts = {t.value: t for t in monitoring(request).events.top(
        "account", since=since, by="blocks", limit=10_000)}
    everyone = web_context(request).accounts.accounts()
    standings = web_context(request).service(Strikes.of).standings([a.id for a in everyone])
    found = standings or {}
    accounts = sorted(everyone, key=lambda a: (
        not a.suspended, -(found[a.id].score if a.id in found else 0.0),
        -(counts[a.id].blocks if a.id in counts else 0), a.name))
    rows = [{"account": a, "standing": found.get(a.id),
             "blocks": counts[a.id].blocks if a.id in counts else 0,
             "checks": counts[a.id].events if a.id in counts else 0} for a in accounts]
    return render(request, "monitor/accounts.html",
                  {"rows": rows, "strikes_read": standings is not None})


def _page(request: Request, account: AccountInfo, **extra: Any) -> dict[str, Any]:
    found = monitoring(request)
    blocked = found.events.events(account=account.id, blocked_only=True, limit=20)
    standings = web_context(request).service(Strikes.of).standings([account.id])
    return {"account": account, "history": found.account_history(account.id),
            "standing": (standings or {}).get(account.id), "strikes_read": standings is not None,
            "blocked": [{"event": e, "at": when(e.at)} for e in blocked],
            "incidents": found.incidents.incidents(None, account=account.id, limit=20),
            **extra}


@router.get("/monitor/accounts/{account_id}",
            dependencies=[requires(Permission.ABUSE_ACCOUNTS_VIEW)])
def account_page(request: Request, account_id: str) -> HTMLResponse:
    """One account: strikes timeline, suspensions, recent blocked prompts, incidents."""
    return render(request, "monitor/account.html",
                  _page(request, _account(request, account_id)))


@router.get("/monitor/data/accounts/{account_id}",
            dependencies=[requires(Permission.ABUSE_ACCOUNTS_VIEW)])
def account_data(request: Request, account_id: str) -> dict[str, Any]:
    """The account's strikes timeline (chart data for the page's script)."""
    account = _account(request, account_id)
    return timeline(monitoring(request), account.id, now=time.time())


@router.post("/monitor/accounts/{account_id}/reinstate")
def reinstate(request: Request, account_id: str, reason: Reason = "",
              me: Identity = requires(Permission.ABUSE_ACCOUNTS_REINSTATE)) -> Response:
    """Reinstate a suspended account (a reason is required; audited; strikes reset)."""
    assert me.user is not None
    account = _account(request, account_id)
    problem = None
    if not account.suspended:
        problem = f"account {account.name!r} is {account.status}, not suspended"
    elif len(reason.strip()) < 3:
        problem = "a reason is required to reinstate an account; say why it may come back"
    if problem:
        return render(request, "monitor/account.html",
                      _page(request, account, error=problem, reason=reason), status_code=400)
    web_context(request).accounts.set_status(account.id, "active", reason.strip(),
                                             by=me.user.username)
    flash(request, f"account {account.name} reinstated", "ok")
    return RedirectResponse(f"/monitor/accounts/{account.id}", status_code=303)
