"""Errors in OpenAI's shape, and the JSON response every route returns.

Every error body is ``{"error": {"message", "type", "param", "code"}}``, the shape OpenAI's
SDKs parse, whichever layer raised it: the body-size middleware, the auth check, request
body parsing, a Bastion error from the classifier, or an unexpected crash.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from starlette.exceptions import HTTPException
from starlette.responses import Response

from bastion.errors import PolicyError, RuntimeFailure, UserError

logger = logging.getLogger("bastion.serve")


class JSONResponse(Response):
    """JSON with every non-ASCII character escaped.

    Escaping means hostile text (bidi overrides, lone surrogates, NULs) round-trips byte for
    byte through any client and can never make encoding fail.
    """

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        """Serialise ``content`` as compact, ASCII-only JSON."""
        return json.dumps(content, ensure_ascii=True, allow_nan=False,
                          separators=(",", ":")).encode("ascii")


class ApiError(Exception):
    """An error to send to the client as an OpenAI-shaped body.

    Args:
        status: HTTP status code.
        message: what went wrong and how to fix it.
        code: a short machine-readable code, e.g. ``"too_many_texts"``.
        param: the request field at fault, if any.
        headers: extra response headers.
    """

    def __init__(self, status: int, message: str, *, code: str, param: str | None = None,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.param = param
        self.headers = headers

    def response(self) -> JSONResponse:
        """The response that reports this error."""
        return error_response(self.status, self.message, code=self.code, param=self.param,
                              headers=self.headers)


def _error_type(status: int) -> str:
    if status == 401:
        return "authentication_error"
    if status >= 500:
        return "server_error"
    return "invalid_request_error"


def error_response(status: int, message: str, *, code: str, param: str | None = None,
                   headers: Mapping[str, str] | None = None) -> JSONResponse:
    """An OpenAI-shaped error response."""
    body = {"error": {"message": message, "type": _error_type(status), "param": param,
                      "code": code}}
    return JSONResponse(body, status_code=status, headers=headers)


async def _api_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return exc.response()


async def _bastion_error(_: Request, exc: Exception) -> Response:
    if isinstance(exc, PolicyError):
        return error_response(422, str(exc), code="invalid_policy")
    if isinstance(exc, UserError):
        return error_response(400, str(exc), code="invalid_request")
    # Runtime failures are logged by type only: their text may come from a backend.
    logger.warning("classifier runtime failure: %s", type(exc).__name__)
    return error_response(503, "the classifier failed; retry later", code="classifier_error")


async def _http_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return error_response(exc.status_code, str(exc.detail), code=f"http_{exc.status_code}",
                          headers=exc.headers)


async def _crash(_: Request, __: Exception) -> Response:
    # Starlette re-raises the exception after this response, so the server logs it.
    return error_response(500, "internal error; the server log has details",
                          code="internal_error")


def install_error_handlers(app: FastAPI) -> None:
    """Make every error leave ``app`` in OpenAI's shape."""
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(UserError, _bastion_error)
    app.add_exception_handler(RuntimeFailure, _bastion_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _crash)
