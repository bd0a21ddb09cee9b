"""``POST /v1/moderations``: OpenAI's moderation API, answered by a Bastion policy.

Category mapping (policy code -> OpenAI category names)::

    VIO -> violence                   SSH -> self-harm
    HAT -> hate, harassment           WPN -> illicit/violent
    SEX -> sexual                     MAL -> illicit
    CSE -> sexual/minors              FRD -> illicit
    INJ -> bastion/prompt-injection   PRV -> bastion/privacy
    PII -> bastion/pii                any other code -> bastion/<code in lower case>

Every result carries all thirteen OpenAI category keys (``false`` / ``0.0`` / ``[]`` where the
policy does not cover one), plus a ``bastion/...`` key for each policy category outside
OpenAI's set, plus the full Bastion verdict under ``"bastion"``. Where several codes map to one
name, the name's score is the highest and it is flagged when any of them is violated.

Failure is never "not flagged": if the classifier returns an error verdict for any input, the
whole request is answered 503 with an OpenAI-shaped error, never a result.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from bastion.classify import Verdict
from bastion.policy import Policy
from bastion.serve._body import parse_body
from bastion.serve._errors import ApiError, JSONResponse
from bastion.serve._schemas import ModerationRequest
from bastion.serve._service import Service

OPENAI_CATEGORIES: tuple[str, ...] = (
    "harassment", "harassment/threatening", "hate", "hate/threatening", "illicit",
    "illicit/violent", "self-harm", "self-harm/instructions", "self-harm/intent", "sexual",
    "sexual/minors", "violence", "violence/graphic",
)
"""The category keys of OpenAI's moderation results."""

CATEGORY_MAP: Mapping[str, tuple[str, ...]] = {
    "VIO": ("violence",),
    "HAT": ("hate", "harassment"),
    "SEX": ("sexual",),
    "CSE": ("sexual/minors",),
    "SSH": ("self-harm",),
    "WPN": ("illicit/violent",),
    "MAL": ("illicit",),
    "FRD": ("illicit",),
    "INJ": ("bastion/prompt-injection",),
    "PRV": ("bastion/privacy",),
    "PII": ("bastion/pii",),
}
"""Built-in policy category codes and the moderation category names they report as."""

OPENAI_MODELS = frozenset({
    "omni-moderation-latest", "omni-moderation-2024-09-26", "text-moderation-latest",
    "text-moderation-stable", "text-moderation-007",
})
"""OpenAI model names a client may send; each means the server's default policy."""


def category_names(code: str) -> tuple[str, ...]:
    """The moderation category names a policy category code reports as."""
    return CATEGORY_MAP.get(code, (f"bastion/{code.lower()}",))


def moderation_result(verdict: Verdict) -> dict[str, Any]:
    """One OpenAI moderation result (plus ``"bastion"``) from a non-error verdict."""
    assert not verdict.is_error, "error verdicts are answered 503, never as a result"
    flags = dict.fromkeys(OPENAI_CATEGORIES, False)
    scores = dict.fromkeys(OPENAI_CATEGORIES, 0.0)
    applied: dict[str, list[str]] = {name: [] for name in OPENAI_CATEGORIES}
    for category in verdict.categories:
        for name in category_names(category.code):
            flags[name] = flags.get(name, False) or category.violated
            scores[name] = max(scores.get(name, 0.0), category.score)
            applied[name] = ["text"]
    return {
        "flagged": any(flags.values()),
        "categories": flags,
        "category_scores": scores,
        "category_applied_input_types": applied,
        "bastion": verdict.to_dict(),
    }


def _policy_for(service: Service, model: str | None) -> Policy:
    if model is None or model in OPENAI_MODELS:
        return service.default
    return service.policy(model, param="model")


def _fail_closed(verdicts: list[Verdict]) -> None:
    failed = [v for v in verdicts if v.is_error]
    if failed:
        raise ApiError(
            503, f"the classifier failed on {len(failed)} of {len(verdicts)} inputs "
            f"(tier {failed[0].tier!r}: {failed[0].error}); no moderation result was produced. "
            "Retry later.", code="classifier_error", headers={"Retry-After": "5"})


def moderations_router(service: Service) -> APIRouter:
    """The ``/v1/moderations`` route."""
    router = APIRouter()

    @router.post("/v1/moderations")
    async def moderations(request: Request) -> Response:
        body = await parse_body(request, ModerationRequest)
        texts = body.texts()
        if texts is None:
            raise ApiError(422, "image inputs are not supported; send text parts only",
                           code="unsupported_input_type", param="input")
        service.check_texts(texts, param="input", listed=isinstance(body.input, list)
                            and len(texts) == len(body.input))
        policy = _policy_for(service, body.model)
        verdicts = await service.classify(texts, policy)
        _fail_closed(verdicts)
        return JSONResponse({
            "id": f"modr-{secrets.token_hex(12)}",
            "model": policy.id,
            "results": [moderation_result(v) for v in verdicts],
        })

    return router
