"""The incident queue: list, look at the evidence, acknowledge or resolve with a reason."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from bastion.errors import InputError
from bastion.monitor._incident import STATUSES, Incident, Status
from bastion.monitor._web._data import when
from bastion.monitor._web._overview import account_names, monitoring
from bastion.web import Identity, Permission, allowed, flash, identify, render, requires

router = APIRouter()
Reason = Annotated[str, Form(max_length=2000)]
FILTERS: dict[str, tuple[Status, ...]] = {"live": ("open", "acknowledged"), "open": ("open",),
           "acknowledged": ("acknowledged",), "resolved": ("resolved",), "all": STATUSES}


def _view(incident: Incident, names: dict[str, str]) -> dict[str, Any]:
    return {"incident": incident, "opened": when(incident.opened_at),
            "updated": when(incident.updated_at),
            "accounts": [{"id": a, "name": names.get(a, a)} for a in incident.accounts],
            "alerts": [{"alert": a, "at": when(a.at)} for a in incident.alerts],
            "evidence": [{"item": e, "at": when(e.at)} for e in incident.evidence]}


def _can_respond(request: Request) -> bool:
    user = identify(request).user
    return user is not None and allowed(user.role, Permission.INCIDENTS_RESPOND)


def _incidents(request: Request, status: str) -> list[Incident]:
    if status not in FILTERS:
        raise HTTPException(400, f"unknown status filter {status!r}; use one of "
                                 f"{list(FILTERS)}")
    return monitoring(request).incidents.incidents(FILTERS[status])


@router.get("/monitor/incidents", dependencies=[requires(Permission.INCIDENTS_VIEW)])
def queue(request: Request, status: str = "live") -> HTMLResponse:
    """Open and acknowledged incidents, most recent activity first."""
    names = account_names(request)
    found = [_view(i, names) for i in _incidents(request, status)]
    return render(request, "monitor/incidents.html",
                  {"incidents": found, "status": status, "filters": list(FILTERS)})


@router.get("/api/monitor/incidents", dependencies=[requires(Permission.INCIDENTS_VIEW)])
def queue_api(request: Request, status: str = "live") -> list[dict[str, Any]]:
    """The incidents as JSON (alerts and evidence included), for API keys."""
    return [i.to_json() for i in _incidents(request, status)]


@router.get("/monitor/incidents/{incident_id}",
            dependencies=[requires(Permission.INCIDENTS_VIEW)])
def incident_page(request: Request, incident_id: str) -> HTMLResponse:
    """One incident: its alerts, evidence (redacted samples), accounts, and what to do."""
    try:
        incident = monitoring(request).incidents.incident(incident_id)
    except InputError as exc:
        raise HTTPException(404, str(exc)) from exc
    return render(request, "monitor/incident.html",
                  {**_view(incident, account_names(request)),
                   "can_respond": _can_respond(request)})


def _move(request: Request, incident_id: str, action: str, reason: str,
          me: Identity) -> Response:
    assert me.user is not None
    store = monitoring(request).incidents
    move = store.acknowledge if action == "acknowledged" else store.resolve
    try:
        move(incident_id, by=me.user.username, reason=reason)
    except InputError as exc:
        try:
            incident = store.incident(incident_id)
        except InputError:
            raise HTTPException(404, str(exc)) from exc
        context = {**_view(incident, account_names(request)), "error": str(exc),
                   "reason": reason, "can_respond": True}
        return render(request, "monitor/incident.html", context, status_code=400)
    flash(request, f"incident {incident_id} {action}", "ok")
    return RedirectResponse(f"/monitor/incidents/{incident_id}", status_code=303)


@router.post("/monitor/incidents/{incident_id}/acknowledge")
def acknowledge(request: Request, incident_id: str, reason: Reason = "",
                me: Identity = requires(Permission.INCIDENTS_RESPOND)) -> Response:
    """Acknowledge an open incident (a reason is required; audited)."""
    return _move(request, incident_id, "acknowledged", reason, me)


@router.post("/monitor/incidents/{incident_id}/resolve")
def resolve(request: Request, incident_id: str, reason: Reason = "",
            me: Identity = requires(Permission.INCIDENTS_RESPOND)) -> Response:
    """Resolve an incident (a reason is required; audited)."""
    return _move(request, incident_id, "resolved", reason, me)
