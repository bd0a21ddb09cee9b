"""The findings pages (the ``findings`` web feature): list, queue, submit, detail, triage,
comments, imports, verification, metrics and system owners. The JSON API is in ``_api.py``.

Every page declares one permission and shows only findings in the caller's scope (see
:func:`bastion.findings._webkit.scope_of`); a finding out of scope answers 404. Hostile text is
rendered inert: templates auto-escape, and hidden characters are shown as escapes.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, UploadFile
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from bastion.errors import BastionError, InputError
from bastion.findings._api import router as api_router
from bastion.findings._imports import read_findings
from bastion.findings._index import Ranked
from bastion.findings._lifecycle import REGRESSION_STATES, STATES, TRANSITIONS
from bastion.findings._metrics import Metrics
from bastion.findings._model import MAX_TURN_CHARS, parse_submission
from bastion.findings._probes import verify
from bastion.findings._query import EVERYTHING, Filters
from bastion.findings._webkit import (
    check_engagements,
    findings_web,
    inert,
    scope_of,
    shown,
    username,
    visible,
)
from bastion.taxonomy import OWASP_LLM_2025
from bastion.web import (
    PALETTE,
    Feature,
    Identity,
    NavEntry,
    Permission,
    allowed,
    bar_chart,
    doughnut_chart,
    flash,
    render,
    requires,
    spend_costly,
    web_context,
)

router = APIRouter()
P = Permission
Short = Annotated[str, Form(max_length=300)]
Text = Annotated[str, Form(max_length=100_000)]
FIX_STATES = ("fixing", "fixed")
MAX_UPLOAD = 20 * 1024 * 1024
_TURN = re.compile(r"^(system|user|assistant|tool):[ ]?", re.MULTILINE)


def parse_transcript(text: str) -> list[dict[str, str]]:
    """Turns from the form's transcript box: each turn starts a line with ``user:``,
    ``assistant:``, ``system:`` or ``tool:``; everything up to the next marker is its text.

    Browsers send a textarea's line breaks as CRLF; they are read as plain newlines.

    Raises:
        InputError: text before the first marker, or no marker at all.
    """
    text = text.replace("\r\n", "\n")
    marks = list(_TURN.finditer(text))
    if not marks or text[:marks[0].start()].strip():
        raise InputError("the transcript must start with 'user:' (or 'system:') and mark each "
                         "turn with 'user:', 'assistant:', 'system:' or 'tool:' at a line start")
    turns = []
    for mark, following in zip(marks, [*marks[1:], None], strict=True):
        end = following.start() if following else len(text)
        body = text[mark.end():end]
        turns.append({"role": mark.group(1), "content": body.removesuffix("\n")})
    return turns


def _page(request: Request, me: Identity, title: str, queue: bool, state: str | None,
          after: str | None) -> HTMLResponse:
    store = findings_web(request).store
    filters = Filters(states=(state,)) if state in STATES else Filters()
    fetch = store.queue if queue else store.listing
    try:
        page = fetch(scope=scope_of(request, me), filters=filters, after=after, limit=50)
    except InputError as exc:
        return render(request, "findings/list.html", {"error": str(exc), "title": title,
                                                      "items": [], "states": STATES},
                      status_code=400)
    return render(request, "findings/list.html", {
        "title": title, "items": [inert(s) for s in page.items], "next": page.next, "queue": queue,
        "state": state, "states": STATES,
        "can_submit": allowed(me.role, P.FINDINGS_SUBMIT)})


@router.get("/findings")
def list_page(request: Request, state: str | None = None, after: str | None = None,
              me: Identity = requires(P.FINDINGS_VIEW)) -> HTMLResponse:
    """Findings the caller may see, newest first."""
    return _page(request, me, "Findings", False, state, after)


@router.get("/findings/queue")
def queue_page(request: Request, after: str | None = None,
               me: Identity = requires(P.FINDINGS_VIEW)) -> HTMLResponse:
    """The priority queue: open findings by severity, SLA deadline and age."""
    return _page(request, me, "Priority queue", True, None, after)


def _form_page(request: Request, form: dict[str, Any], error: str | None = None) -> HTMLResponse:
    return render(request, "findings/new.html", {"form": form, "error": error,
                                                 "owasp": OWASP_LLM_2025},
                  status_code=400 if error else 200)


@router.get("/findings/new", dependencies=[requires(P.FINDINGS_SUBMIT)])
def new_page(request: Request) -> HTMLResponse:
    """The submission form."""
    return _form_page(request, {})


@router.post("/findings/new")
def submit(request: Request, title: Short, target: Short, transcript: Annotated[
               str, Form(max_length=MAX_TURN_CHARS)], impact_level: Annotated[int, Form()],
           breadth: Annotated[int, Form()], effort: Annotated[int, Form()],
           repro_rate: Annotated[float, Form(ge=0, le=1)], model: Short = "",
           engagement: Short = "", owasp: Short = "", atlas: Short = "",
           policy_category: Short = "", steps: Text = "", impact: Text = "",
           me: Identity = requires(P.FINDINGS_SUBMIT)) -> Response:
    """Store a submission and show it (with its duplicate candidates)."""
    form = {"title": title, "target": target, "transcript": transcript, "model": model,
            "engagement": engagement, "owasp": owasp, "atlas": atlas, "steps": steps,
            "policy_category": policy_category, "impact": impact, "repro_rate": repro_rate,
            "impact_level": impact_level, "breadth": breadth, "effort": effort}
    try:
        data = {"title": title, "target": target, "transcript": parse_transcript(transcript),
                "model": model or None, "engagement": engagement or None,
                "owasp": owasp or None, "atlas": atlas.strip() or None,
                "policy_category": policy_category or None, "steps": steps, "impact": impact,
                "repro_rate": repro_rate,
                "severity": {"impact": impact_level, "breadth": breadth, "effort": effort}}
        submission = parse_submission(data)
        check_engagements(request, me, [submission])
        item = findings_web(request).store.submit(submission, username(me))
    except InputError as exc:
        return _form_page(request, form, str(exc))
    flash(request, f"finding {item.id} submitted ({item.severity})", "ok")
    return RedirectResponse(f"/findings/{item.id}", status_code=303)


def _detail(request: Request, me: Identity, finding_id: str, status_code: int = 200,
            **extra: Any) -> HTMLResponse:
    item = visible(request, me, finding_id)
    web = findings_web(request)
    store = web.store
    can_triage = allowed(me.role, P.FINDINGS_TRIAGE)
    ranked = store.ranked(item.id) if can_triage else Ranked([], 0)
    turns = [{"role": t["role"], "text": shown(t["content"])[0],
              "cut": shown(t["content"])[1]} for t in item.transcript]
    return render(request, "findings/detail.html", {
        "f": inert(item), "turns": turns,
        "history": [inert(h) for h in store.history(item.id)],
        "comments": [inert(c) for c in store.comments(item.id)],
        "attachments": [inert(a) for a in store.attachments(item.id)],
        "candidates": ranked.candidates, "other_model": ranked.other_model,
        "overdue": item.overdue(), "can_triage": can_triage,
        "next_states": TRANSITIONS[item.state] if can_triage else (),  # type: ignore[index]
        "fix_states": [s for s in TRANSITIONS[item.state] if s in FIX_STATES]  # type: ignore[index]
        if allowed(me.role, P.FINDINGS_FIX) else [],
        "can_comment": allowed(me.role, P.FINDINGS_COMMENT),
        "can_attach": allowed(me.role, P.FINDINGS_SUBMIT),
        "can_verify": (allowed(me.role, P.FINDINGS_VERIFY) and item.state in REGRESSION_STATES),
        "verify_ready": web.target_url is not None, **extra}, status_code=status_code)


@router.get("/findings/{finding_id}")
def detail(request: Request, finding_id: str,
           me: Identity = requires(P.FINDINGS_VIEW)) -> HTMLResponse:
    """One finding: transcript (inert), severity, history, candidates, comments, actions."""
    return _detail(request, me, finding_id)


def _move(request: Request, me: Identity, finding_id: str, state: str, reason: str,
          duplicate_of: str) -> Response:
    item = visible(request, me, finding_id)
    try:
        original = int(duplicate_of) if duplicate_of.strip() else None
    except ValueError:
        return _detail(request, me, finding_id, 400,
                       error=f"'duplicate of' must be a finding number, not {duplicate_of!r}")
    try:
        findings_web(request).store.transition(item.id, state, actor=username(me),
                                               reason=reason, duplicate_of=original)
    except InputError as exc:
        return _detail(request, me, finding_id, 400, error=str(exc))
    flash(request, f"finding {item.id} is now {state}", "ok")
    return RedirectResponse(f"/findings/{item.id}", status_code=303)


@router.post("/findings/{finding_id}/transition")
def transition(request: Request, finding_id: str, state: Short, reason: Text = "",
               duplicate_of: Short = "", me: Identity = requires(P.FINDINGS_TRIAGE)) -> Response:
    """Move a finding through its lifecycle, with a reason (triagers)."""
    return _move(request, me, finding_id, state, reason, duplicate_of)


@router.post("/findings/{finding_id}/fix")
def fix(request: Request, finding_id: str, state: Short, reason: Text = "",
        me: Identity = requires(P.FINDINGS_FIX)) -> Response:
    """Report fix progress (developers): accepted -> fixing -> fixed."""
    if state not in FIX_STATES:
        return _detail(request, me, finding_id, 400,
                       error=f"developers move findings to {' or '.join(FIX_STATES)} only")
    return _move(request, me, finding_id, state, reason, "")


@router.post("/findings/{finding_id}/comment")
def comment(request: Request, finding_id: str, body: Text,
            me: Identity = requires(P.FINDINGS_COMMENT)) -> Response:
    """Add a comment; @mentions are notified."""
    item = visible(request, me, finding_id)
    try:
        findings_web(request).store.comment(item.id, username(me), body)
    except InputError as exc:
        return _detail(request, me, finding_id, 400, error=str(exc))
    return RedirectResponse(f"/findings/{item.id}#comments", status_code=303)


async def _read_upload(upload: UploadFile) -> bytes:
    data = await upload.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise InputError(f"the upload is larger than {MAX_UPLOAD:,} bytes")
    return data


@router.post("/findings/{finding_id}/attachments")
async def attach(request: Request, finding_id: str, file: UploadFile,
                 me: Identity = requires(P.FINDINGS_SUBMIT)) -> Response:
    """Attach a file (type and size limits; stored byte for byte)."""
    item = visible(request, me, finding_id)
    try:
        data = await _read_upload(file)
        findings_web(request).store.attach(item.id, file.filename or "upload",
                                           file.content_type or "", data, actor=username(me))
    except InputError as exc:
        return _detail(request, me, finding_id, 400, error=str(exc))
    return RedirectResponse(f"/findings/{item.id}", status_code=303)


@router.get("/findings/{finding_id}/attachments/{attachment_id}")
def download(request: Request, finding_id: str, attachment_id: str,
             me: Identity = requires(P.FINDINGS_VIEW)) -> Response:
    """An attachment, always as a download (never rendered in the app's origin)."""
    item = visible(request, me, finding_id)
    store = findings_web(request).store
    wanted = [a for a in store.attachments(item.id) if str(a.id) == attachment_id]
    if not wanted:
        return Response("no such attachment", status_code=404, media_type="text/plain")
    info, data = store.attachment_data(wanted[0].id)
    return Response(data, media_type="application/octet-stream", headers={
        "Content-Disposition": f'attachment; filename="finding-{item.id}-{info.id}.bin"',
        "X-Attachment-Type": info.media_type, "X-Attachment-Sha256": info.sha256})


@router.post("/findings/{finding_id}/verify")
def verify_page(request: Request, finding_id: str,
                me: Identity = requires(P.FINDINGS_VERIFY)) -> Response:
    """Re-run the finding's regression probe through the configured target."""
    item = visible(request, me, finding_id)
    web = findings_web(request)
    if web.target_url is None:
        return _detail(request, me, finding_id, 400, error="verification needs a target: set "
                       "BASTION_FINDINGS_TARGET_URL to the gateway's /v1 URL")
    spend_costly(request, me, "verification")
    try:
        [result] = verify(web.store, [item.id], base_url=web.target_url, actor=username(me),
                          target=web.target_kind)
    except BastionError as exc:
        return _detail(request, me, finding_id, 400, error=str(exc))
    flash(request, f"regression probe {'worked again' if result.attack_succeeded else 'refused'}"
                   f": finding {item.id} is {result.state}", "ok")
    return RedirectResponse(f"/findings/{item.id}", status_code=303)


@router.get("/findings-import", dependencies=[requires(P.FINDINGS_SUBMIT)])
def import_page(request: Request) -> HTMLResponse:
    """Import successful attacks from a campaign log, garak, promptfoo or PyRIT."""
    return render(request, "findings/import.html", {"form": {}})


@router.post("/findings-import")
async def import_(request: Request, kind: Short, file: UploadFile, attempt: Short = "",
                  target: Short = "", engagement: Short = "",
                  me: Identity = requires(P.FINDINGS_SUBMIT)) -> Response:
    """Store the findings a result file holds (one click for a campaign attempt)."""
    form = {"kind": kind, "attempt": attempt, "target": target, "engagement": engagement}
    options: dict[str, Any] = {"target": target or None, "engagement": engagement or None}
    if attempt.strip():
        options["attempt_id"] = attempt.strip()
    try:
        data = await _read_upload(file)
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "upload"
            path.write_bytes(data)
            submissions = read_findings(kind, path, **options)
        check_engagements(request, me, submissions)
        found = findings_web(request).store.submit_many(submissions, username(me))
    except InputError as exc:
        return render(request, "findings/import.html", {"form": form, "error": str(exc)},
                      status_code=400)
    flash(request, f"imported {len(found)} finding(s)", "ok")
    return RedirectResponse(f"/findings/{found[0].id}" if len(found) == 1 else "/findings",
                            status_code=303)


@router.get("/findings-metrics")
def metrics_page(request: Request, me: Identity = requires(P.FINDINGS_METRICS)) -> HTMLResponse:
    """Time to triage and fix, reopen rate, findings per member and engagement: Chart.js
    charts (their data in the page, drawn by the shared ``charts.js``) and the same numbers
    in tables."""
    scope = scope_of(request, me)
    if me.role == "viewer":  # viewers read the programme's dashboards, not findings
        scope = EVERYTHING
    figures = findings_web(request).store.metrics(scope=scope)
    return render(request, "findings/metrics.html", {"m": figures, "charts": charts(figures)})


def charts(m: Metrics) -> dict[str, Any]:
    """The metrics page's charts (Chart.js specs, by canvas name)."""
    times = {"time to triage": m.median_hours_to_triage, "time to fix": m.median_hours_to_fix}
    known = {k: v for k, v in times.items() if v is not None}
    members = list(m.per_member)
    out: dict[str, Any] = {
        "times": bar_chart(list(known), {"median hours": list(known.values())}),
        "severity": bar_chart(list(m.by_severity), {"findings": list(m.by_severity.values())},
                              colours=(PALETTE[1],)),
        "state": bar_chart(list(m.by_state), {"findings": list(m.by_state.values())},
                           colours=(PALETTE[0],)),
        "members": bar_chart(members, {k: [m.per_member[n].get(k, 0) for n in members]
                                       for k in ("reported", "credited", "accepted")},
                             horizontal=True),
        "engagements": bar_chart([e or "(none)" for e in m.per_engagement],
                                 {"findings": list(m.per_engagement.values())},
                                 colours=(PALETTE[3],), horizontal=True),
    }
    if m.reopen_rate is not None:
        share = round(m.reopen_rate * 100, 1)
        out["reopen"] = doughnut_chart(["reopened", "stayed fixed"],
                                       [share, round(100 - share, 1)], "% of fixed findings",
                                       colours=(PALETTE[1], PALETTE[4]))
    return out


@router.get("/findings-owners", dependencies=[requires(P.FINDINGS_OWNERS)])
def owners_page(request: Request) -> HTMLResponse:
    """Which developer owns which systems."""
    return _owners(request)


def _owners(request: Request, error: str | None = None) -> HTMLResponse:
    users = [u for u in web_context(request).users.users() if u.role == "developer"]
    store = findings_web(request).store
    return render(request, "findings/owners.html", {
        "developers": [(u, store.owned(u.id)) for u in users], "error": error},
        status_code=400 if error else 200)


@router.post("/findings-owners")
def assign(request: Request, developer: Short, target: Short,
           me: Identity = requires(P.FINDINGS_OWNERS)) -> Response:
    """Let a developer see and fix the findings of a system."""
    user = web_context(request).users.find(developer)
    if user is None or user.role != "developer":
        return _owners(request, f"{developer!r} is not a developer; pick one from the list")
    try:
        findings_web(request).store.assign_owner(user.id, target, actor=username(me))
    except InputError as exc:
        return _owners(request, str(exc))
    return RedirectResponse("/findings-owners", status_code=303)


router.include_router(api_router)

feature = Feature(
    "findings", router, templates=Path(__file__).parent / "templates",
    nav=(NavEntry("Findings", "/findings", P.FINDINGS_VIEW, order=30),
         NavEntry("Findings queue", "/findings/queue", P.FINDINGS_VIEW, order=31),
         NavEntry("Findings metrics", "/findings-metrics", P.FINDINGS_METRICS, order=32)))
