"""The co-pilot's pages and API (the ``copilot`` web feature).

Pages: the co-pilot panel (summary, ranked alerts, the co-pilot's drafts, and proposed
actions with confirm and reject forms), loaded beside an incident on the monitor's incident
page and also served as a page of its own; the threat-intel upload and the code-scan upload.
The API under ``/api/copilot`` offers the same with the same permissions.

Viewing writes nothing: drafts become stored proposals only on a POST (``.../proposals``,
CSRF-checked, audited with who asked). Every action runs only through
:meth:`ActionDesk.confirm` with the confirming user and a reason.
"""

from __future__ import annotations

import io
import os
import tempfile
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Body, File, Form, HTTPException, UploadFile
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from bastion.copilot._actions import ActionDesk, Proposal
from bastion.copilot._backend import writer_from_env
from bastion.copilot._code import CodeReport, scan_code
from bastion.copilot._digest import digest
from bastion.copilot._monitor import from_monitor
from bastion.copilot._playbook import ActionContext, RegressionTarget
from bastion.copilot._reports import read_report
from bastion.copilot._triage import Triage, Triager
from bastion.errors import BastionError, InputError, RuntimeFailure, UserError
from bastion.monitor import Incident as MonitorIncident
from bastion.monitor import IncidentStore
from bastion.policy.store import PolicyStore
from bastion.web import (
    Feature,
    Identity,
    NavEntry,
    Permission,
    WebContext,
    allowed,
    flash,
    render,
    requires,
    spend_costly,
    web_context,
)

P = Permission
router = APIRouter()
Reason = Annotated[str, Form(max_length=2000)]
MAX_UPLOAD = 10 * 1024 * 1024
MAX_FILES = 2000
FINDING_TARGET_ENV = "BASTION_COPILOT_FINDING_TARGET"


@dataclass
class CopilotService:
    """The co-pilot's shared state in the web app: incidents, the action desk, the triager.

    Triage results are cached per incident version (its newest alert), so a page view does
    not re-run the model when nothing changed.
    """

    incidents: IncidentStore
    desk: ActionDesk
    triager: Triager
    _cache: dict[str, tuple[tuple[float, int], Triage]] = field(default_factory=dict)

    @classmethod
    def of(cls, ctx: WebContext) -> CopilotService:
        """Build the service over the app's stores: the findings store and its verify target
        are the findings pages' own (``$BASTION_FINDINGS_TARGET_URL``), the system findings
        are filed against comes from ``$BASTION_COPILOT_FINDING_TARGET``."""
        # The findings package (and the red team behind it) loads only when the service is built.
        from bastion.findings._webkit import FindingsWeb  # noqa: PLC0415

        incidents = IncidentStore(ctx.sessions, audit=ctx.audit)
        findings = ctx.service(FindingsWeb.of)
        target = (None if findings.target_url is None else
                  RegressionTarget(findings.target_url,
                                   "gateway" if findings.target_kind == "gateway" else "openai"))
        context = ActionContext(
            ctx.accounts, policies=PolicyStore(ctx.sessions, audit=ctx.audit),
            findings=findings.store, incident=lambda ref: from_monitor(incidents.incident(ref)),
            regression=target, finding_target=os.environ.get(FINDING_TARGET_ENV, "gateway"))
        return cls(incidents, ActionDesk(ctx.sessions, context, audit=ctx.audit),
                   Triager(writer_from_env()))

    def triage(self, incident: MonitorIncident) -> Triage:
        """The incident's triage (cached; reads only: its drafts are not stored)."""
        version = (incident.updated_at, len(incident.alerts))
        cached = self._cache.get(incident.id)
        if cached is None or cached[0] != version:  # one entry per incident, the newest
            cached = self._cache[incident.id] = (version, self.triager.triage(
                from_monitor(incident)))
        return cached[1]

    def panel(self, incident: MonitorIncident, me: Identity) -> dict[str, Any]:
        """What the co-pilot panel shows (reads only): the triage, the stored proposals, and
        the drafts not proposed yet."""
        result = self.triage(incident)
        return {"triage": result, "proposals": self.desk.for_incident(incident.id),
                "suggested": self.desk.unstored(incident.id, result.drafts),
                "can_confirm": allowed(me.role, P.COPILOT_CONFIRM)}

    def propose(self, incident: MonitorIncident, *, by: str) -> list[Proposal]:
        """Store the drafts not proposed yet as proposals (audited with ``by``); the new ones."""
        fresh = self.desk.unstored(incident.id, self.triage(incident).drafts)
        return self.desk.store(incident.id, fresh, by=by) if fresh else []


def service(request: Request) -> CopilotService:
    """The app's co-pilot service."""
    return web_context(request).service(CopilotService.of)


def incident_url(incident_id: str) -> str:
    """The monitor's page of an incident, where the co-pilot panel is shown beside it."""
    return f"/monitor/incidents/{quote(incident_id, safe='')}"


def _username(me: Identity) -> str:
    assert me.user is not None
    return me.user.username


# incidents ---------------------------------------------------------------------------------

def _incident_page(request: Request, me: Identity, incident_id: str, *, secret: str | None = None,
                   error: str | None = None, status_code: int = 200) -> HTMLResponse:
    svc = service(request)
    incident = svc.incidents.incident(incident_id)
    return render(request, "copilot/incident.html", {
        "incident": incident, "secret": secret, "error": error, **svc.panel(incident, me)},
        status_code=status_code)


@router.get("/copilot/incidents/{incident_id}")
def incident_page(request: Request, incident_id: str,
                  me: Identity = requires(P.COPILOT_VIEW)) -> HTMLResponse:
    """One incident with the co-pilot panel beside it (also shown after a failed confirm)."""
    return _incident_page(request, me, incident_id)


@router.get("/copilot/incidents/{incident_id}/panel")
def panel(request: Request, incident_id: str,
          me: Identity = requires(P.COPILOT_VIEW)) -> HTMLResponse:
    """The co-pilot panel alone, loaded by htmx into the monitor's incident page."""
    svc = service(request)
    return render(request, "copilot/_panel.html",
                  svc.panel(svc.incidents.incident(incident_id), me), fragment=True)


@router.post("/copilot/incidents/{incident_id}/proposals")
def propose(request: Request, incident_id: str,
            me: Identity = requires(P.COPILOT_CONFIRM)) -> Response:
    """Put the co-pilot's drafts up for confirmation: store them as proposals (audited)."""
    svc = service(request)
    made = svc.propose(svc.incidents.incident(incident_id), by=_username(me))
    flash(request, f"{len(made)} action(s) proposed; confirm or reject each with a reason"
          if made else "nothing new to propose", "ok")
    return RedirectResponse(incident_url(incident_id), status_code=303)


@router.post("/copilot/proposals/{proposal_id}/confirm")
def confirm(request: Request, proposal_id: str, reason: Reason = "",
            me: Identity = requires(P.COPILOT_CONFIRM)) -> Response:
    """Run a proposed action because this person confirms it, for this reason."""
    svc = service(request)
    proposal = svc.desk.get(proposal_id)
    try:
        done = svc.desk.confirm(proposal_id, by=_username(me), reason=reason)
    except BastionError as exc:  # a mistake, or the regression target down: said on the page
        return _incident_page(request, me, proposal.incident_id, error=str(exc),
                              status_code=400)
    summary = (done.proposal.result or {}).get("summary", "done")
    if done.secret is not None:  # shown once, on this page; never stored
        return _incident_page(request, me, proposal.incident_id, secret=done.secret)
    flash(request, f"{summary} (confirmed by {_username(me)})", "ok")
    return RedirectResponse(incident_url(proposal.incident_id), status_code=303)


@router.post("/copilot/proposals/{proposal_id}/reject")
def reject(request: Request, proposal_id: str, reason: Reason = "",
           me: Identity = requires(P.COPILOT_CONFIRM)) -> Response:
    """Close a proposed action without running it."""
    svc = service(request)
    proposal = svc.desk.get(proposal_id)
    try:
        svc.desk.reject(proposal_id, by=_username(me), reason=reason)
    except UserError as exc:
        return _incident_page(request, me, proposal.incident_id, error=str(exc),
                              status_code=400)
    flash(request, f"rejected: {proposal.title}", "ok")
    return RedirectResponse(incident_url(proposal.incident_id), status_code=303)


@router.get("/api/copilot/incidents/{incident_id}")
def api_incident(request: Request, incident_id: str,
                 me: Identity = requires(P.COPILOT_VIEW)) -> dict[str, Any]:
    """The incident's triage, its stored proposals and the drafts not proposed yet."""
    svc = service(request)
    shown = svc.panel(svc.incidents.incident(incident_id), me)
    return {**shown["triage"].to_json(),
            "proposals": [p.to_json() for p in shown["proposals"]],
            "suggested": [asdict(d) for d in shown["suggested"]]}


@router.post("/api/copilot/incidents/{incident_id}/proposals")
def api_propose(request: Request, incident_id: str,
                me: Identity = requires(P.COPILOT_CONFIRM)) -> dict[str, Any]:
    """Store the drafts not proposed yet as proposals; every proposal of the incident back."""
    svc = service(request)
    made = svc.propose(svc.incidents.incident(incident_id), by=_username(me))
    return {"created": [p.id for p in made],
            "proposals": [p.to_json() for p in svc.desk.for_incident(incident_id)]}


@router.post("/api/copilot/proposals/{proposal_id}/confirm")
def api_confirm(request: Request, proposal_id: str,
                reason: Annotated[str, Body(embed=True, max_length=2000)],
                me: Identity = requires(P.COPILOT_CONFIRM)) -> dict[str, Any]:
    """Confirm a proposal (JSON body ``{"reason": "..."}``); a new key comes back once."""
    try:
        done = service(request).desk.confirm(proposal_id, by=_username(me), reason=reason)
    except RuntimeFailure as exc:  # the regression target is down: the proposal failed
        raise HTTPException(502, str(exc)) from exc
    return {"proposal": done.proposal.to_json(), "secret": done.secret}


# threat intel ------------------------------------------------------------------------------

async def _read_upload(upload: UploadFile) -> bytes:
    data = await upload.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise InputError(f"{upload.filename!r} is larger than {MAX_UPLOAD // 2**20} MiB; "
                         "upload a smaller file")
    if not data:
        raise InputError("the uploaded file is empty; choose a report file")
    return data


@router.get("/copilot/intel")
def intel_page(request: Request, me: Identity = requires(P.COPILOT_INTEL)) -> HTMLResponse:
    """The threat-intel upload form."""
    return render(request, "copilot/intel.html", {})


@router.post("/copilot/intel")
async def intel_upload(request: Request, report: Annotated[UploadFile, File()],
                       me: Identity = requires(P.COPILOT_INTEL)) -> HTMLResponse:
    """Digest an uploaded report and show indicators, techniques and proposed probes."""
    spend_costly(request, me, "digest")
    try:
        result = digest(read_report(await _read_upload(report), report.filename or "report"),
                        writer_from_env())
    except UserError as exc:
        return render(request, "copilot/intel.html", {"error": str(exc)}, status_code=400)
    return render(request, "copilot/intel.html", {"digest": result})


@router.post("/api/copilot/digest")
async def api_digest(request: Request, report: Annotated[UploadFile, File()],
                     me: Identity = requires(P.COPILOT_INTEL)) -> dict[str, Any]:
    """Digest an uploaded report (multipart field ``report``) as JSON."""
    spend_costly(request, me, "digest")
    data = await _read_upload(report)
    return digest(read_report(data, report.filename or "report"), writer_from_env()).to_json()


# code scanning -----------------------------------------------------------------------------

def _unpack(data: bytes, name: str, into: Path) -> None:
    """Write an uploaded ``.py`` file, or a ``.zip`` of a repository, under ``into``.

    Raises:
        InputError: not a ``.py`` or ``.zip``, an unsafe or unwritable path (a name longer
            than the file system allows, say) in it, or too much in it.
    """
    try:
        _write_files(data, name, into)
    except OSError as exc:
        raise InputError(f"{name[:80]!r} holds a file that cannot be written here "
                         f"({exc.strerror}); shorten its file names") from exc


def _write_files(data: bytes, name: str, into: Path) -> None:
    if name.endswith(".py"):
        (into / Path(name).name).write_bytes(data)
        return
    if not name.endswith(".zip"):
        raise InputError(f"{name!r} is neither a .py file nor a .zip of a repository")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise InputError(f"{name!r} is not a readable zip archive") from exc
    members = [m for m in archive.infolist() if not m.is_dir()]
    if len(members) > MAX_FILES or sum(m.file_size for m in members) > 5 * MAX_UPLOAD:
        raise InputError(f"{name!r} holds too many or too large files; zip only the code")
    root = into.resolve()
    for member in members:
        target = (root / member.filename).resolve()
        if not target.is_relative_to(root) or (member.external_attr >> 16) & 0o170000 == 0o120000:
            raise InputError(f"{name!r} holds an unsafe path {member.filename!r}; refusing it")
        if target.suffix == ".py":
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(archive.read(member))


async def _scan_upload(upload: UploadFile) -> CodeReport:
    data = await _read_upload(upload)
    with tempfile.TemporaryDirectory(prefix="bastion-scan-") as folder:
        _unpack(data, upload.filename or "upload.py", Path(folder))
        report = scan_code(Path(folder), writer=writer_from_env())
    return CodeReport(upload.filename or "upload", report.files, report.scanners,
                      report.skipped, report.findings)


@router.get("/copilot/code")
def code_page(request: Request, me: Identity = requires(P.COPILOT_CODE)) -> HTMLResponse:
    """The code-scan upload form."""
    return render(request, "copilot/code.html", {})


@router.post("/copilot/code")
async def code_upload(request: Request, code: Annotated[UploadFile, File()],
                      me: Identity = requires(P.COPILOT_CODE)) -> HTMLResponse:
    """Scan an uploaded file or zipped repository and show the ranked findings."""
    spend_costly(request, me, "code scan")
    try:
        report = await _scan_upload(code)
    except UserError as exc:
        return render(request, "copilot/code.html", {"error": str(exc)}, status_code=400)
    return render(request, "copilot/code.html", {"report": report})


@router.post("/api/copilot/scan-code")
async def api_scan(request: Request, code: Annotated[UploadFile, File()],
                   me: Identity = requires(P.COPILOT_CODE)) -> dict[str, Any]:
    """Scan an uploaded file or zipped repository (multipart field ``code``) as JSON."""
    spend_costly(request, me, "code scan")
    return (await _scan_upload(code)).to_json()


feature = Feature("copilot", router, templates=Path(__file__).parent / "templates",
                  nav=(NavEntry("Threat intel", "/copilot/intel", P.COPILOT_INTEL, order=31),
                       NavEntry("Code scan", "/copilot/code", P.COPILOT_CODE, order=32)))
