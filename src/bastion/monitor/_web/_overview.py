"""The overview page and its chart data (JSON for the page's script, and for API keys)."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse

from bastion.monitor._web._data import WINDOWS, Monitoring, overview
from bastion.monitor._web._strikes import Strikes
from bastion.web import Permission, render, requires, web_context

router = APIRouter()


def monitoring(request: Request) -> Monitoring:
    """The app's monitoring stores."""
    return web_context(request).service(Monitoring.of)


def account_names(request: Request) -> dict[str, str]:
    """Account id -> name."""
    return {a.id: a.name for a in web_context(request).accounts.accounts()}


def with_standing(request: Request, rows: list[dict[str, Any]]) -> bool:
    """Add each row's (``row["id"]``) strike score, level and status as the gateway's abuse
    monitor keeps them; False when the strike store could not be read."""
    infos = {a.id: a for a in web_context(request).accounts.accounts()}
    found = web_context(request).service(Strikes.of).standings([r["id"] for r in rows])
    for row in rows:
        standing = found.get(row["id"]) if found is not None else None
        info = infos.get(row["id"])
        row.update(strike_score=standing.score if standing else None,
                   level=standing.level if standing else None,
                   status=info.status if info else None)
    return found is not None


def _window(window: str) -> str:
    if window not in WINDOWS:
        raise HTTPException(400, f"unknown window {window!r}; use one of {list(WINDOWS)}")
    return window


@router.get("/monitor", dependencies=[requires(Permission.MONITOR_VIEW)])
def overview_page(request: Request, window: str = "24h") -> HTMLResponse:
    """Traffic, verdicts and blocks over time, top categories and accounts (live charts)."""
    data = overview_data(request, window)
    return render(request, "monitor/overview.html",
                  {"data": data, "windows": list(WINDOWS), "window": window})


@router.get("/monitor/data/overview", dependencies=[requires(Permission.MONITOR_VIEW)])
def overview_data(request: Request, window: str = "24h") -> dict[str, Any]:
    """The overview's chart data (the page's script reads it; refreshed every 30 s), and the
    top accounts' strike standing."""
    data = overview(monitoring(request), account_names(request), window=_window(window),
                    now=time.time())
    data["strikes_read"] = with_standing(request, data["top_accounts"])
    return data


@router.get("/api/monitor/overview", dependencies=[requires(Permission.MONITOR_VIEW)])
def overview_api(request: Request, window: str = "24h") -> dict[str, Any]:
    """The overview's data for API keys."""
    return overview_data(request, window)
