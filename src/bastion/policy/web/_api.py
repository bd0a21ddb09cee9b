"""The policy JSON API under ``/api/policies``: the pages' permissions, API-key callers."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse

from bastion.errors import PolicyLintError
from bastion.policy import MAX_POLICY_BYTES, LintIssue
from bastion.policy.store import PolicyVersion
from bastion.policy.web._desk import MAX_TRY_CHARS
from bastion.policy.web._views import desk, who
from bastion.web import Identity, Permission, requires, spend_costly

router = APIRouter()
P = Permission


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SaveBody(_Body):
    """A new version: the full text and what changed."""

    content: str = Field(min_length=1, max_length=MAX_POLICY_BYTES)
    message: str = Field(default="", max_length=2000)


class PublishBody(_Body):
    """Why this version should be live (audited)."""

    reason: str = Field(min_length=1, max_length=2000)


class TryBody(_Body):
    """Text to classify, and the version (``None``: the live one)."""

    text: str = Field(min_length=1, max_length=MAX_TRY_CHARS)
    version: int | None = None


class TestsBody(_Body):
    """Labelled rows as JSONL."""

    rows: str = Field(max_length=2_000_000)


def version_json(version: PolicyVersion, *, content: bool = False) -> dict[str, Any]:
    """A version as JSON (its text only when asked)."""
    out: dict[str, Any] = {
        "policy_id": version.policy_id, "version": version.number, "state": version.state,
        "author": version.author, "message": version.message,
        "created_at": version.created_at.isoformat(), "content_hash": version.content_hash}
    if content:
        out["content"] = version.content
    return out


def issue_json(issue: LintIssue) -> dict[str, Any]:
    """A lint issue as JSON."""
    return {"severity": issue.severity, "line": issue.line, "message": issue.message}


@router.get("/api/policies")
def api_list(request: Request, me: Identity = requires(P.POLICIES_VIEW)) -> list[dict[str, Any]]:
    """Every policy: id, title, live version, version count."""
    return [{"id": r.policy_id, "title": r.title, "built_in": r.built_in, "live": r.live,
             "versions": r.versions, "latest": r.latest} for r in desk(request).rows()]


@router.get("/api/policies/{policy_id}")
def api_policy(request: Request, policy_id: str,
               me: Identity = requires(P.POLICIES_VIEW)) -> dict[str, Any]:
    """The live text and label, and every saved version (newest first)."""
    d = desk(request)
    policy, label, text = d.live(policy_id)
    return {"id": policy_id, "title": policy.title, "live": label, "content": text,
            "hash": policy.hash,
            "versions": [version_json(v) for v in d.store.versions(policy_id)]}


@router.get("/api/policies/{policy_id}/versions/{number}")
def api_version(request: Request, policy_id: str, number: int,
                me: Identity = requires(P.POLICIES_VIEW)) -> dict[str, Any]:
    """One version with its text."""
    return version_json(desk(request).version(policy_id, number), content=True)


@router.get("/api/policies/{policy_id}/diff")
def api_diff(request: Request, policy_id: str, old: int, new: int,
             me: Identity = requires(P.POLICIES_VIEW)) -> dict[str, Any]:
    """The unified diff between two versions."""
    d = desk(request)
    d.version(policy_id, old)
    d.version(policy_id, new)
    return {"old": old, "new": new, "diff": d.store.diff(policy_id, old, new)}


@router.post("/api/policies", response_model=None)
def api_create(request: Request, body: SaveBody,
               me: Identity = requires(P.POLICIES_EDIT)) -> JSONResponse:
    """Save a version of the policy its front matter names (a new policy or not)."""
    return _save(request, None, body, me)


@router.post("/api/policies/{policy_id}/versions", response_model=None)
def api_save(request: Request, policy_id: str, body: SaveBody,
             me: Identity = requires(P.POLICIES_EDIT)) -> JSONResponse:
    """Lint and save a new version: 201 with the version and warnings, 422 with the issues."""
    desk(request).check(policy_id)
    return _save(request, policy_id, body, me)


def _save(request: Request, policy_id: str | None, body: SaveBody,
          me: Identity) -> JSONResponse:
    try:
        version, warnings = desk(request).store.save(body.content, author=who(me),
                                                     message=body.message,
                                                     policy_id=policy_id)
    except PolicyLintError as exc:
        return JSONResponse({"error": {"status": 422, "message": f"nothing saved: {exc}; fix "
                                       "the errors listed in 'issues' and send it again",
                                       "issues": [issue_json(i) for i in exc.issues]}},
                            status_code=422)
    return JSONResponse({**version_json(version),
                         "warnings": [issue_json(i) for i in warnings]}, status_code=201)


@router.post("/api/policies/{policy_id}/versions/{number}/publish")
def api_publish(request: Request, policy_id: str, number: int, body: PublishBody,
                me: Identity = requires(P.POLICIES_PUBLISH)) -> dict[str, Any]:
    """Make a version live (audited with who and why)."""
    d = desk(request)
    d.version(policy_id, number)
    head = d.store.publish(policy_id, number, by=who(me), reason=body.reason)
    return {"policy_id": policy_id, "version": head.number, "serial": head.serial,
            "published_by": head.published_by, "reason": head.reason}


@router.post("/api/policies/{policy_id}/versions/{number}/test")
def api_test(request: Request, policy_id: str, number: int,
             me: Identity = requires(P.POLICIES_EDIT)) -> dict[str, Any]:
    """Run the test set on a version and on the live one."""
    desk(request).version(policy_id, number)
    spend_costly(request, me, "test-set run")
    return desk(request).compare(policy_id, number).to_dict()


@router.put("/api/policies/{policy_id}/tests")
def api_attach(request: Request, policy_id: str, body: TestsBody,
               me: Identity = requires(P.POLICIES_EDIT)) -> dict[str, Any]:
    """Replace the labelled rows attached to a policy."""
    d = desk(request)
    d.check(policy_id)
    return {"policy_id": policy_id, "rows": d.attach_tests(policy_id, body.rows, by=who(me))}


@router.post("/api/policies/{policy_id}/playground")
def api_try(request: Request, policy_id: str, body: TryBody,
            me: Identity = requires(P.POLICIES_TRY)) -> dict[str, Any]:
    """Classify text with a version: verdict, rule ids, rationale, evidence offsets."""
    spend_costly(request, me, "playground run")
    return desk(request).try_text(policy_id, body.version, body.text).to_dict()
