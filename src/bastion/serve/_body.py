"""Read a JSON request body into a request model, with a clear 4xx for each way it can fail."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from bastion.serve._errors import ApiError
from bastion.serve._schemas import LOC_TAGS

M = TypeVar("M", bound=BaseModel)


async def parse_body(request: Request, model: type[M]) -> M:
    """The request body as ``model``.

    The body is read as JSON whatever its ``Content-Type`` says, as the gateway does: OpenAI
    clients send ``application/json``, but ``curl -d`` sends a form type and some clients none.

    Raises:
        ApiError: 400 for a body that is not JSON (naming the content type when it was not
            JSON), 422 for JSON that does not fit ``model`` (naming the first field at fault).
    """
    try:
        data = _decode(await request.body())
    except ApiError as exc:
        raise _with_content_type(exc, request.headers.get("content-type", "")) from exc.__cause__
    try:
        return model.model_validate(data, strict=True)
    except ValidationError as exc:
        raise _invalid(exc, model) from exc


def _with_content_type(error: ApiError, value: str) -> ApiError:
    """``error``, saying so when the client did not declare JSON either."""
    media_type = value.partition(";")[0].strip().lower()
    if media_type == "application/json" or media_type.endswith("+json"):
        return error
    shown = repr(media_type) if media_type else "no content type"
    return ApiError(error.status, f"{error.message} (sent with {shown}); send a JSON body, "
                    "ideally with 'Content-Type: application/json'", code=error.code)


def _decode(raw: bytes) -> Any:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ApiError(400, f"request body is not UTF-8 (bad byte at offset {exc.start})",
                       code="invalid_json") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ApiError(400, f"request body is not valid JSON: {exc.msg} at line {exc.lineno} "
                       f"column {exc.colno} (char {exc.pos})", code="invalid_json") from exc
    except RecursionError as exc:
        raise ApiError(400, "request body is not valid JSON: nested too deeply",
                       code="invalid_json") from exc
    except ValueError as exc:  # e.g. an integer with more digits than Python converts
        raise ApiError(400, f"request body is not valid JSON: {exc}",
                       code="invalid_json") from exc


def _path(error: ErrorDetails) -> str:
    loc = error["loc"]
    # The last element is always kept: it may be a field the caller sent that looks like a tag.
    return ".".join(str(p) for p in [*(p for p in loc[:-1] if p not in LOC_TAGS), *loc[-1:]])


def _invalid(exc: ValidationError, model: type[BaseModel]) -> ApiError:
    errors = exc.errors(include_url=False, include_input=False)
    first = errors[0]
    param = _path(first) or None
    more = f" ({len(errors) - 1} more problems)" if len(errors) > 1 else ""
    if first["type"] == "extra_forbidden":
        top = len(first["loc"]) == 1
        allowed = f"; allowed fields are {sorted(model.model_fields)}" if top else ""
        return ApiError(422, f"unknown field {param!r}{allowed}{more}", code="unknown_field",
                        param=param)
    if first["type"] == "missing":
        return ApiError(422, f"missing required field {param!r}{more}", code="missing_field",
                        param=param)
    return ApiError(422, f"{param or 'request body'}: {first['msg']}{more}",
                    code="invalid_type", param=param)
