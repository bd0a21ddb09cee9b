"""Bastion's own routes: classify, the policy list, and the health probes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from bastion.policy import Policy
from bastion.serve._body import parse_body
from bastion.serve._errors import ApiError, JSONResponse
from bastion.serve._schemas import ClassifyRequest
from bastion.serve._service import Service


def describe_policy(policy: Policy) -> dict[str, Any]:
    """A policy's id, version, hash, title and categories, JSON-ready."""
    return {
        "id": policy.id,
        "version": policy.version,
        "hash": policy.hash,
        "title": policy.title,
        "description": policy.description,
        "categories": [
            {"code": c.code, "name": c.name, "action": c.action, "threshold": c.threshold,
             "severity": c.severity}
            for c in policy.categories
        ],
    }


def _texts_of(service: Service, body: ClassifyRequest) -> list[str]:
    if (body.texts is None) == (body.text is None):
        raise ApiError(422, "send exactly one of 'texts' (a list) or 'text' (a string)",
                       code="invalid_input", param="texts")
    if body.texts is not None:
        service.check_texts(body.texts, param="texts", listed=True)
        return body.texts
    assert body.text is not None
    service.check_texts([body.text], param="text", listed=False)
    return [body.text]


async def _policy_of(service: Service, body: ClassifyRequest) -> Policy:
    if body.policy_text is None:
        return service.policy(body.policy, param="policy")
    if body.policy is not None:
        raise ApiError(422, "send at most one of 'policy' (an id) or 'policy_text' (a document)",
                       code="invalid_input", param="policy_text")
    return await service.inline_policy(body.policy_text)


def api_router(service: Service) -> APIRouter:
    """``POST /v1/classify``, ``GET /v1/policies`` and ``GET /readyz`` (all need a key)."""
    router = APIRouter()

    @router.post("/v1/classify")
    async def classify(request: Request) -> Response:
        body = await parse_body(request, ClassifyRequest)
        texts = _texts_of(service, body)
        policy = await _policy_of(service, body)
        verdicts = await service.classify(texts, policy)
        return JSONResponse({"verdicts": [v.to_dict() for v in verdicts],
                             "policy": describe_policy(policy)})

    @router.get("/v1/policies")
    async def policies() -> Response:
        return JSONResponse({
            "object": "list",
            "default": service.default.id,
            "data": [describe_policy(p) for p in service.catalog.values()],
        })

    @router.get("/readyz")
    async def readyz() -> Response:
        if service.ready:
            return JSONResponse({"status": "ready", "tier": service.settings.tier})
        status = "loading" if service.failure is None else "failing"
        return JSONResponse({"status": status, "error": service.failure}, status_code=503)

    return router


def health_router() -> APIRouter:
    """``GET /healthz``: the process answers. No key, no details."""
    router = APIRouter()

    @router.get("/healthz")
    async def healthz() -> Response:
        return JSONResponse({"status": "ok"})

    return router
