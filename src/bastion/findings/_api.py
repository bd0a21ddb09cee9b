"""The findings JSON API: the pages' permissions and scopes, for scripts and integrations.

Callers authenticate with an API key linked to a web user (``Authorization: Bearer ...``).
Bad input answers 400 with ``{"error": {"status": 400, "message": ...}}`` (what, why, how to
fix), a body of the wrong shape or type (read strictly, unknown keys refused) 422 naming the
field; a finding out of the caller's scope answers 404.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Body, HTTPException
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request

from bastion.errors import InputError
from bastion.findings._lifecycle import STATES
from bastion.findings._model import Finding, parse_submission
from bastion.findings._query import EVERYTHING, Filters, Page, Scope
from bastion.findings._store import FindingStore
from bastion.findings._webkit import (
    check_engagements,
    findings_web,
    scope_of,
    username,
    visible,
)
from bastion.web import Identity, Permission, requires

router = APIRouter()
P = Permission


class _Body(BaseModel):
    """A JSON body read strictly: a number or a list where text belongs is a 422 naming the
    field, never turned into its ``str()`` and stored (``NaN`` as the comment ``'nan'``)."""

    model_config = ConfigDict(extra="forbid", strict=True)


class MoveBody(_Body):
    """A lifecycle move: the new state, why, and the original of a duplicate."""

    state: str = Field(min_length=1, max_length=40)
    reason: str = Field(default="", max_length=100_000)
    duplicate_of: int | None = Field(default=None, ge=1)


class CommentBody(_Body):
    """A comment's text (``@name`` mentions are notified)."""

    body: str = Field(min_length=1, max_length=100_000)


def finding_json(item: Finding) -> dict[str, Any]:
    """A finding as the API returns it."""
    data = asdict(item)
    data["transcript"] = list(item.transcript)
    data["overdue"] = item.overdue()
    for key in ("created_at", "updated_at", "due_at", "triaged_at", "fixed_at"):
        data[key] = data[key].isoformat() if data[key] else None
    return data


def _page_json(page: Page) -> dict[str, Any]:
    return {"items": [asdict(s) | {"created_at": s.created_at.isoformat(),
                                   "due_at": s.due_at.isoformat() if s.due_at else None}
                      for s in page.items], "next": page.next}


def _bad(exc: InputError) -> HTTPException:
    return HTTPException(400, str(exc))


@router.get("/api/findings")
def api_list(request: Request, state: str | None = None, after: str | None = None,
             limit: int = 50, me: Identity = requires(P.FINDINGS_VIEW)) -> dict[str, Any]:
    """Findings in the caller's scope, newest first (``next``: the following page's cursor)."""
    filters = Filters(states=(state,)) if state in STATES else Filters()
    try:
        return _page_json(findings_web(request).store.listing(
            scope=scope_of(request, me), filters=filters, after=after, limit=limit))
    except InputError as exc:
        raise _bad(exc) from exc


@router.get("/api/findings/queue")
def api_queue(request: Request, after: str | None = None, limit: int = 50,
              me: Identity = requires(P.FINDINGS_VIEW)) -> dict[str, Any]:
    """The priority queue in the caller's scope."""
    try:
        return _page_json(findings_web(request).store.queue(
            scope=scope_of(request, me), after=after, limit=limit))
    except InputError as exc:
        raise _bad(exc) from exc


@router.post("/api/findings", status_code=201)
def api_submit(request: Request, data: Any = Body(...),  # noqa: B008 - FastAPI's way
               me: Identity = requires(P.FINDINGS_SUBMIT)) -> dict[str, Any]:
    """Submit a finding (the JSON of ``docs/findings.md``); answers it with the duplicate
    candidates the caller may see (others' findings stay hidden from a red-teamer)."""
    store = findings_web(request).store
    try:
        submission = parse_submission(data)
        check_engagements(request, me, [submission])
        item = store.submit(submission, username(me))
    except InputError as exc:
        raise _bad(exc) from exc
    scope = scope_of(request, me)
    seen = [c for c in store.candidates(item.id)
            if scope.everything or _in_scope(store, scope, c.finding_id)]
    return finding_json(item) | {"candidates": [asdict(c) for c in seen]}


def _in_scope(store: FindingStore, scope: Scope, finding_id: int) -> bool:
    other = store.get(finding_id)
    return scope.allows(other.reporter, other.engagement, other.target)


@router.get("/api/findings/metrics")
def api_metrics(request: Request, me: Identity = requires(P.FINDINGS_METRICS)) -> dict[str, Any]:
    """Programme metrics over the caller's scope (viewers: the whole programme)."""
    scope = EVERYTHING if me.role == "viewer" else scope_of(request, me)
    return asdict(findings_web(request).store.metrics(scope=scope))


@router.get("/api/findings/{finding_id}")
def api_get(request: Request, finding_id: str,
            me: Identity = requires(P.FINDINGS_VIEW)) -> dict[str, Any]:
    """One finding with its history and comments."""
    item = visible(request, me, finding_id)
    store = findings_web(request).store
    return finding_json(item) | {
        "history": [asdict(h) | {"at": h.at.isoformat()} for h in store.history(item.id)],
        "comments": [asdict(c) | {"at": c.at.isoformat()} for c in store.comments(item.id)]}


@router.get("/api/findings/{finding_id}/candidates")
def api_candidates(request: Request, finding_id: str,
                   me: Identity = requires(P.FINDINGS_TRIAGE)) -> list[dict[str, Any]]:
    """Earlier findings that may be the same vulnerability, ranked (triagers)."""
    item = visible(request, me, finding_id)
    return [asdict(c) for c in findings_web(request).store.candidates(item.id)]


def _move(request: Request, me: Identity, finding_id: str, data: MoveBody,
          allowed_states: tuple[str, ...] | None) -> dict[str, Any]:
    item = visible(request, me, finding_id)
    if allowed_states is not None and data.state not in allowed_states:
        raise HTTPException(400, f"this route moves findings to {', '.join(allowed_states)} "
                                 f"only, not {data.state!r}")
    try:
        moved = findings_web(request).store.transition(
            item.id, data.state, actor=username(me), reason=data.reason,
            duplicate_of=data.duplicate_of)
    except InputError as exc:
        raise HTTPException(400, str(exc)) from exc
    return finding_json(moved)


@router.post("/api/findings/{finding_id}/transition")
def api_transition(request: Request, finding_id: str, data: MoveBody,
                   me: Identity = requires(P.FINDINGS_TRIAGE)) -> dict[str, Any]:
    """``{"state": ..., "reason": ..., "duplicate_of": ...}`` (triagers)."""
    return _move(request, me, finding_id, data, None)


@router.post("/api/findings/{finding_id}/fix")
def api_fix(request: Request, finding_id: str, data: MoveBody,
            me: Identity = requires(P.FINDINGS_FIX)) -> dict[str, Any]:
    """``{"state": "fixing" | "fixed", "reason": ...}`` (developers)."""
    return _move(request, me, finding_id, data, ("fixing", "fixed"))


@router.post("/api/findings/{finding_id}/comments", status_code=201)
def api_comment(request: Request, finding_id: str, data: CommentBody,
                me: Identity = requires(P.FINDINGS_COMMENT)) -> dict[str, Any]:
    """``{"body": ...}``; @mentions are notified."""
    item = visible(request, me, finding_id)
    try:
        note = findings_web(request).store.comment(item.id, username(me), data.body)
    except InputError as exc:
        raise _bad(exc) from exc
    return asdict(note) | {"at": note.at.isoformat()}
