"""The monitoring dashboard (the ``monitor`` web feature): overview charts, the incident
queue with acknowledge / resolve, and accounts with their strikes and suspensions."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter

from bastion.monitor._web import _accounts, _incidents, _overview
from bastion.web import Feature, NavEntry, Permission

HERE = Path(__file__).parent

router = APIRouter()
for part in (_overview, _incidents, _accounts):
    router.include_router(part.router)

feature = Feature(
    "monitor", router, templates=HERE / "templates",
    nav=(NavEntry("Overview", "/monitor", Permission.MONITOR_VIEW, order=30),
         NavEntry("Incidents", "/monitor/incidents", Permission.INCIDENTS_VIEW, order=31),
         NavEntry("Accounts", "/monitor/accounts", Permission.ABUSE_ACCOUNTS_VIEW, order=32)))

__all__ = ["feature"]
