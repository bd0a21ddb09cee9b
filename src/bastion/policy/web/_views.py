"""The policy pages: list, view, edit (lint inline), history and diff, publish, test set,
playground. Every state change is a POST carrying the CSRF token; every view declares one
permission; hostile text is only ever auto-escaped.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from bastion.errors import InputError, PolicyLintError
from bastion.policy import MAX_POLICY_BYTES, LintIssue, builtin_policies, lint_text
from bastion.policy.store import Comparison, PolicyVersion
from bastion.policy.web._desk import MAX_TRY_CHARS, PolicyDesk
from bastion.web import (
    Identity,
    Permission,
    allowed,
    flash,
    render,
    requires,
    spend_costly,
    web_context,
)

router = APIRouter()
P = Permission
Text = Annotated[str, Form(max_length=MAX_POLICY_BYTES)]
Message = Annotated[str, Form(max_length=2000)]


def desk(request: Request) -> PolicyDesk:
    """The app's policy desk."""
    return web_context(request).service(PolicyDesk)


def who(me: Identity) -> str:
    """The name recorded as author or publisher."""
    return me.user.username if me.user is not None else "unknown"


def _can(me: Identity) -> dict[str, bool]:
    return {"can_edit": allowed(me.role, P.POLICIES_EDIT),
            "can_publish": allowed(me.role, P.POLICIES_PUBLISH),
            "can_try": allowed(me.role, P.POLICIES_TRY)}


@router.get("/policies")
def list_page(request: Request, me: Identity = requires(P.POLICIES_VIEW)) -> HTMLResponse:
    """Every policy, with its live version and how many versions it has."""
    return render(request, "policies/list.html", {"rows": desk(request).rows(), **_can(me)})


NEW_POLICY = """---
id: my_policy
version: "1"
title: My policy
categories:
  - code: MYP
    name: What this policy forbids
    action: block
    threshold: 0.5
---
# My policy

## Instructions
Decide whether the text asks for what this policy forbids.

## Definitions
- **Term**: what it means here.

## Criteria
### Violates
- **MYP-1** A request for the forbidden thing.

### Does not violate
- **MYP-S1** Talking about it without asking for it.

## Examples
- violates MYP-1: "An example that violates the policy."
- safe MYP-S1: "An example that does not."
"""


@router.get("/policies/new")
def new_page(request: Request, me: Identity = requires(P.POLICIES_EDIT)) -> HTMLResponse:
    """The editor for a new policy, starting from a skeleton that lints clean."""
    return render(request, "policies/edit.html",
                  {"policy_id": None, "text": NEW_POLICY, "message": "", "issues": []})


@router.post("/policies/new")
def create(request: Request, text: Text, message: Message = "",
           me: Identity = requires(P.POLICIES_EDIT)) -> Response:
    """Save a new policy's first version (its id comes from the front matter)."""
    return _save(request, None, text, message, me)


def _policy_context(request: Request, me: Identity, policy_id: str) -> dict[str, Any]:
    d = desk(request)
    policy, label, text = d.live(policy_id)
    versions = d.store.versions(policy_id)
    head = d.store.heads().get(policy_id)
    return {"policy_id": policy_id, "policy": policy, "live_label": label, "text": text,
            "versions": versions, "live_id": head.version_id if head else None,
            "head": head, "attached": len(d.store.attached_tests(policy_id)),
            "built_in": policy_id in builtin_policies(), **_can(me)}


@router.get("/policies/{policy_id}")
def policy_page(request: Request, policy_id: str,
                me: Identity = requires(P.POLICIES_VIEW)) -> HTMLResponse:
    """A policy's live text, categories and version history."""
    desk(request).check(policy_id)
    return render(request, "policies/policy.html", _policy_context(request, me, policy_id))


def _version_context(request: Request, me: Identity, version: PolicyVersion,
                     **extra: Any) -> dict[str, Any]:
    d = desk(request)
    head = d.store.heads().get(version.policy_id)
    live_diff = ""
    if head is not None and head.version_id != version.id:
        live_diff = d.store.diff(version.policy_id, head.number, version.number)
    return {"version": version, "policy_id": version.policy_id, "is_live": head is not None
            and head.version_id == version.id, "head": head, "diff_lines": lines(live_diff),
            "tier": d.tier, **_can(me), **extra}


@router.get("/policies/{policy_id}/versions/{number}")
def version_page(request: Request, policy_id: str, number: int,
                 me: Identity = requires(P.POLICIES_VIEW)) -> HTMLResponse:
    """One saved version: its text, its diff from the live one, publish and test forms."""
    version = desk(request).version(policy_id, number)
    return render(request, "policies/version.html", _version_context(request, me, version))


@router.get("/policies/{policy_id}/edit")
def edit_page(request: Request, policy_id: str,
              me: Identity = requires(P.POLICIES_EDIT)) -> HTMLResponse:
    """The editor, starting from the newest version (or the live text)."""
    text = desk(request).working_text(policy_id)
    return render(request, "policies/edit.html",
                  {"policy_id": policy_id, "text": text, "message": "", "issues": []})


@router.post("/policies/{policy_id}/edit")
def save(request: Request, policy_id: str, text: Text, message: Message = "",
         me: Identity = requires(P.POLICIES_EDIT)) -> Response:
    """Lint and save the text as a new version; on errors show them beside the kept text."""
    desk(request).check(policy_id)
    return _save(request, policy_id, text, message, me)


def _save(request: Request, policy_id: str | None, text: str, message: str,
          me: Identity) -> Response:
    d = desk(request)
    try:
        version, warnings = d.store.save(_newlines(text), author=who(me), message=message,
                                         policy_id=policy_id)
    except PolicyLintError as exc:
        return _edit_again(request, policy_id, text, message, list(exc.issues))
    except InputError as exc:
        return _edit_again(request, policy_id, text, message,
                           [LintIssue("error", None, str(exc))])
    note = f" with {len(warnings)} lint warnings" if warnings else ""
    flash(request, f"saved {version.policy_id} v{version.number}{note}; run the test set, "
                   "then publish it", "ok")
    return RedirectResponse(f"/policies/{version.policy_id}/versions/{version.number}",
                            status_code=303)


@router.post("/policies/lint")
def lint(request: Request, text: Text, message: Message = "",
         policy_id: Annotated[str, Form(max_length=120)] = "",
         me: Identity = requires(P.POLICIES_EDIT)) -> HTMLResponse:
    """Lint the text without saving it: the editor again, with every issue listed."""
    issues = lint_text(_newlines(text), source=policy_id or "policy")
    return render(request, "policies/edit.html", {
        "policy_id": policy_id or None, "text": text, "message": message, "issues": issues,
        "checked": True})


def _edit_again(request: Request, policy_id: str | None, text: str, message: str,
                issues: list[LintIssue]) -> HTMLResponse:
    return render(request, "policies/edit.html", {
        "policy_id": policy_id, "text": text, "message": message, "issues": issues,
        "error": "nothing was saved: fix the errors below (your text is kept)"},
        status_code=400)


def _newlines(text: str) -> str:
    """Browsers send textareas with CRLF line ends; policies are stored with LF."""
    return text.replace("\r\n", "\n")


@router.get("/policies/{policy_id}/diff")
def diff_page(request: Request, policy_id: str, old: int, new: int,
              me: Identity = requires(P.POLICIES_VIEW)) -> HTMLResponse:
    """The unified diff between two versions."""
    d = desk(request)
    d.version(policy_id, old)
    d.version(policy_id, new)
    return render(request, "policies/diff.html", {
        "policy_id": policy_id, "old": old, "new": new,
        "diff_lines": lines(d.store.diff(policy_id, old, new))})


def lines(diff: str) -> list[tuple[str, str]]:
    """A unified diff as (css class, line) pairs for the template to escape and colour."""
    out = []
    for line in diff.splitlines():
        kind = ("hunk" if line.startswith("@@") else "file" if line.startswith(("---", "+++"))
                else "add" if line.startswith("+") else "del" if line.startswith("-")
                else "same")
        out.append((kind, line))
    return out


@router.post("/policies/{policy_id}/versions/{number}/publish")
def publish(request: Request, policy_id: str, number: int, reason: Message = "",
            me: Identity = requires(P.POLICIES_PUBLISH)) -> Response:
    """Make a version live (an older one: a rollback); the reason is audited."""
    d = desk(request)
    version = d.version(policy_id, number)
    try:
        head = d.store.publish(policy_id, number, by=who(me), reason=reason)
    except InputError as exc:
        return render(request, "policies/version.html", _version_context(
            request, me, version, publish_error=str(exc)), status_code=400)
    flash(request, f"published {policy_id} v{head.number}; gateways use it from their next "
                   "policy check", "ok")
    return RedirectResponse(f"/policies/{policy_id}", status_code=303)


@router.post("/policies/{policy_id}/versions/{number}/test")
def run_tests(request: Request, policy_id: str, number: int,
              me: Identity = requires(P.POLICIES_EDIT)) -> HTMLResponse:
    """Run the test set on this version and on the live one, side by side."""
    d = desk(request)
    version = d.version(policy_id, number)
    spend_costly(request, me, "test-set run")
    result = d.compare(policy_id, number)
    return render(request, "policies/version.html", _version_context(
        request, me, version, result=result, rows=score_rows(result)))


def score_rows(result: Comparison) -> list[dict[str, Any]]:
    """One row per category: precision / recall / F1 of the live version and of the draft."""
    out = []
    for code in result.codes():
        new = result.draft.scores.get(code)
        old = result.published.scores.get(code) if result.published is not None else None
        either = new or old
        row: dict[str, Any] = {"code": code, "positives": either.positives if either else 0}
        for field in ("precision", "recall", "f1"):
            before = getattr(old, field, None)
            after = getattr(new, field, None)
            row[field] = (before, after, _trend(before, after))
        out.append(row)
    return out


def _trend(before: float | None, after: float | None) -> str:
    if before is None or after is None or before == after:
        return "same"
    return "up" if after > before else "down"


@router.post("/policies/{policy_id}/tests")
def attach_tests(request: Request, policy_id: str,
                 rows: Annotated[str, Form(max_length=2_000_000)],
                 me: Identity = requires(P.POLICIES_EDIT)) -> Response:
    """Attach labelled rows (JSONL) to the policy's test set, replacing those before."""
    d = desk(request)
    d.check(policy_id)
    try:
        count = d.attach_tests(policy_id, rows, by=who(me))
    except InputError as exc:
        context = _policy_context(request, me, policy_id)
        return render(request, "policies/policy.html", {
            **context, "tests_error": str(exc), "tests_text": rows}, status_code=400)
    flash(request, f"attached {count} labelled rows to {policy_id}", "ok")
    return RedirectResponse(f"/policies/{policy_id}", status_code=303)


@router.get("/policies/{policy_id}/playground")
def playground_page(request: Request, policy_id: str,
                    me: Identity = requires(P.POLICIES_TRY)) -> HTMLResponse:
    """Paste text, pick a version, see the verdict."""
    return render(request, "policies/playground.html", _playground(request, policy_id))


def _playground(request: Request, policy_id: str, **extra: Any) -> dict[str, Any]:
    d = desk(request)
    d.check(policy_id)
    return {"policy_id": policy_id, "versions": d.store.versions(policy_id), "text": "",
            "chosen": None, "tier": d.tier, "max_chars": MAX_TRY_CHARS, **extra}


@router.post("/policies/{policy_id}/playground")
def playground(request: Request, policy_id: str,
               text: Annotated[str, Form(min_length=1, max_length=MAX_TRY_CHARS)],
               version: Annotated[str, Form(max_length=12)] = "live",
               me: Identity = requires(P.POLICIES_TRY)) -> HTMLResponse:
    """Classify the pasted text; evidence spans are marked by the template, text escaped."""
    number = None if version in ("", "live") else _number(version)
    spend_costly(request, me, "playground run")
    trial = desk(request).try_text(policy_id, number, _newlines(text))
    return render(request, "policies/playground.html", _playground(
        request, policy_id, text=text, chosen=number, trial=trial))


def _number(value: str) -> int:
    if not value.isdigit():
        raise InputError(f"version {value!r} is not a version number; pick one from the list")
    return int(value)
