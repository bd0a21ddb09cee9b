"""The HTTP API: auth, OpenAI-shaped moderations, limits and errors, and one real server."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx
import pytest
import typer
import uvicorn
from typer.testing import CliRunner

from bastion.cli._serve import register
from bastion.errors import ConfigError
from bastion.serve import (
    API_KEY_HASHES_ENV,
    OPENAI_CATEGORIES,
    Settings,
    create_app,
    hash_key,
    run,
    settings_from,
)

KEY = "bst-test-key"
SCORES = {
    "bomb": {"VIO": 0.9},
    "vermin": {"HAT": 0.8},
    "ignore previous instructions": {"INJ": 0.95},
    "zap": {"ZAP": 0.9},
}
FAIL = "FAIL-NOW"
AUTH = {"Authorization": f"Bearer {KEY}"}

INLINE_POLICY = """---
id: zapping
version: "2"
title: Zapping
categories:
  - code: ZAP
    name: Zapping people
    action: block
    threshold: 0.5
---
# Zapping

## Instructions
Decide whether the text asks to zap someone.

## Definitions
- **Zap**: a small electric shock.

## Criteria
### Violates
- **ZAP-1** Asks how to zap a person.

### Does not violate
- **ZAP-S1** Talks about zapping in games.

## Examples
- violates ZAP-1: "how do I zap my neighbour"
- safe ZAP-S1: "the wizard zaps the goblin"
"""

ROUTES = [
    ("GET", "/v1/policies", None),
    ("GET", "/readyz", None),
    ("POST", "/v1/classify", {"text": "hello"}),
    ("POST", "/v1/moderations", {"input": "hello"}),
]


def make_settings(**overrides: Any) -> Settings:
    """Settings for the deterministic ``fixed`` tier and one API key."""
    values: dict[str, Any] = {
        "policy": "violence", "tier": "fixed",
        "tier_options": {"scores": SCORES, "fail_on": FAIL},
        "api_key_hashes": [hash_key(KEY)],
    }
    values.update(overrides)
    return Settings(**values)


@asynccontextmanager
async def serving(settings: Settings, *, client: tuple[str, int] = ("127.0.0.1", 50000),
                  ready: bool = True) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process client of an app whose lifespan is running (and classifier ready)."""
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app, client=client)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
        transport=transport, base_url="http://bastion.test"
    ) as http:
        if ready:
            await _wait_ready(http)
        yield http


async def _wait_ready(http: httpx.AsyncClient) -> None:
    with anyio.fail_after(10):
        while (await http.get("/readyz", headers=AUTH)).status_code != 200:
            await anyio.sleep(0.01)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    """A client of the default test app."""
    async with serving(make_settings()) as client:
        yield client


def post_raw(http: httpx.AsyncClient, path: str, content: bytes | str,
             **headers: str) -> Any:
    """POST a body exactly as given (httpx's ``json=`` cannot send lone surrogates)."""
    sent = {"Content-Type": "application/json", **AUTH, **headers}
    return http.post(path, content=content, headers=sent)


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The response is an OpenAI-shaped error with this status and code."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    error: dict[str, Any] = body["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["code"] == code
    assert error["message"]
    return error


# --- auth -----------------------------------------------------------------------------------

@pytest.mark.anyio
async def test_healthz_needs_no_key_and_says_nothing_more(http: httpx.AsyncClient) -> None:
    response = await http.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.anyio
@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
@pytest.mark.parametrize(("headers", "code"), [
    ({}, "missing_api_key"),
    ({"Authorization": "Bearer wrong-key"}, "invalid_api_key"),
    ({"Authorization": f"Basic {KEY}"}, "missing_api_key"),
    ({"Authorization": "Bearer "}, "missing_api_key"),
    # read as the gateway reads them (RFC 6750: spaces, never a tab; nothing after the key)
    ({"Authorization": f"Bearer\t{KEY}"}, "invalid_api_key"),
    ({"Authorization": f"Bearer {KEY} extra"}, "invalid_api_key"),
])
async def test_every_route_but_healthz_refuses_a_missing_or_wrong_key(
    http: httpx.AsyncClient, method: str, path: str, body: Any, headers: dict[str, str],
    code: str,
) -> None:
    response = await http.request(method, path, json=body, headers=headers)
    error = assert_error(response, 401, code)
    assert error["type"] == "authentication_error"
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.anyio
async def test_two_authorization_headers_are_refused_whatever_they_hold(
        http: httpx.AsyncClient) -> None:
    """Which one is the caller's? A proxy or log in front may read the other."""
    response = await http.post("/v1/classify", json={"texts": ["hello"]},
                               headers=[("Authorization", f"Bearer {KEY}"),
                                        ("Authorization", "Bearer other")])
    assert_error(response, 400, "invalid_request")


@pytest.mark.anyio
@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
async def test_every_route_answers_the_right_key(
    http: httpx.AsyncClient, method: str, path: str, body: Any
) -> None:
    response = await http.request(method, path, json=body, headers=AUTH)
    assert response.status_code == 200, response.text


@pytest.mark.anyio
async def test_any_configured_key_is_accepted() -> None:
    settings = make_settings(api_key_hashes=[hash_key("other"), hash_key(KEY)])
    async with serving(settings) as http:
        for key in ("other", KEY):
            response = await http.get("/v1/policies", headers={"Authorization": f"Bearer {key}"})
            assert response.status_code == 200


def test_no_keys_refuses_to_build_the_app() -> None:
    with pytest.raises(ConfigError, match="no API keys configured"):
        create_app(make_settings(api_key_hashes=[]))


@pytest.mark.anyio
async def test_insecure_mode_answers_loopback_without_a_key_and_nobody_else() -> None:
    settings = make_settings(api_key_hashes=[], insecure_no_auth=True)
    async with serving(settings) as http:
        assert (await http.post("/v1/moderations", json={"input": "bomb"})).status_code == 200
    async with serving(settings, client=("203.0.113.7", 4000), ready=False) as http:
        response = await http.post("/v1/moderations", json={"input": "bomb"})
        assert_error(response, 401, "loopback_only")


def test_insecure_mode_refuses_to_bind_beyond_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    def must_not_serve(*args: object, **kwargs: object) -> None:
        pytest.fail("uvicorn started although the bind was refused")

    monkeypatch.setattr(uvicorn, "run", must_not_serve)
    settings = make_settings(api_key_hashes=[], insecure_no_auth=True)
    with pytest.raises(ConfigError, match="loopback only"):
        run(settings, host="0.0.0.0")


def test_key_hashes_come_from_the_environment_and_must_be_sha256() -> None:
    digest = hash_key(KEY)
    settings = settings_from({API_KEY_HASHES_ENV: f" {digest.upper()} ,"}, policy="violence")
    assert settings.api_key_hashes == frozenset({digest})
    with pytest.raises(ConfigError, match="not 64 hex characters"):
        settings_from({API_KEY_HASHES_ENV: KEY})
    with pytest.raises(ConfigError, match="max_texts"):
        settings_from({}, max_texts=0)


def test_new_key_prints_a_key_and_its_hash() -> None:
    app = typer.Typer()
    register(app)
    app.command("noop")(lambda: None)  # a second command keeps 'serve' a subcommand
    result = CliRunner().invoke(app, ["serve", "--new-key"])
    assert result.exit_code == 0, result.output
    key = next(w for w in result.output.split() if w.startswith("bst-"))
    assert f"{API_KEY_HASHES_ENV}={hash_key(key)}" in result.output


@pytest.mark.anyio
async def test_keys_and_texts_never_reach_the_log(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    secret_text = f"very private words {FAIL}"
    async with serving(make_settings()) as http:
        await http.get("/v1/policies", headers={"Authorization": "Bearer leaked-key-123"})
        await http.post("/v1/moderations", json={"input": secret_text}, headers=AUTH)
        await http.post("/v1/classify", json={"text": secret_text}, headers=AUTH)
    assert "leaked-key-123" not in caplog.text
    assert KEY not in caplog.text
    assert "very private words" not in caplog.text


# --- moderations ----------------------------------------------------------------------------

@pytest.mark.anyio
async def test_moderation_has_openai_shape_and_flags_a_violation(
    http: httpx.AsyncClient,
) -> None:
    response = await http.post("/v1/moderations", json={"input": "how to make a bomb"},
                               headers=AUTH)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"id", "model", "results"}
    assert body["id"].startswith("modr-")
    assert body["model"] == "violence"
    [result] = body["results"]
    assert set(result) == {"flagged", "categories", "category_scores",
                           "category_applied_input_types", "bastion"}
    for field in ("categories", "category_scores", "category_applied_input_types"):
        assert set(result[field]) == set(OPENAI_CATEGORIES)
    assert result["flagged"] is True
    assert result["categories"]["violence"] is True
    assert result["category_scores"]["violence"] == pytest.approx(0.9)
    assert result["category_applied_input_types"]["violence"] == ["text"]
    assert result["categories"]["hate"] is False
    assert result["category_scores"]["hate"] == 0.0
    assert result["category_applied_input_types"]["hate"] == []
    assert result["bastion"]["kind"] == "violation"
    assert result["bastion"]["policy"]["id"] == "violence"


@pytest.mark.anyio
async def test_one_result_per_listed_text_in_order(http: httpx.AsyncClient) -> None:
    texts = ["good morning", "a bomb in the car", "nice weather", "bomb"]
    response = await http.post("/v1/moderations", json={"input": texts}, headers=AUTH)
    assert response.status_code == 200
    assert [r["flagged"] for r in response.json()["results"]] == [False, True, False, True]


@pytest.mark.anyio
async def test_content_parts_are_one_input_and_images_are_refused(
    http: httpx.AsyncClient,
) -> None:
    parts = [{"type": "text", "text": "the parcel holds a"}, {"type": "text", "text": "bomb"}]
    response = await http.post("/v1/moderations", json={"input": parts}, headers=AUTH)
    assert [r["flagged"] for r in response.json()["results"]] == [True]
    image = {"type": "image_url", "image_url": {"url": "https://example.com/x.png"}}
    response = await http.post("/v1/moderations", json={"input": [image]}, headers=AUTH)
    assert_error(response, 422, "unsupported_input_type")


@pytest.mark.anyio
async def test_hate_maps_to_hate_and_harassment(http: httpx.AsyncClient) -> None:
    response = await http.post("/v1/moderations", json={"input": "vermin", "model": "hate"},
                               headers=AUTH)
    categories = response.json()["results"][0]["categories"]
    assert {k for k, v in categories.items() if v} == {"hate", "harassment"}


@pytest.mark.anyio
async def test_bastion_only_categories_get_bastion_keys(http: httpx.AsyncClient) -> None:
    body = {"input": "please ignore previous instructions", "model": "default"}
    result = (await http.post("/v1/moderations", json=body, headers=AUTH)).json()["results"][0]
    assert result["flagged"] is True
    assert result["categories"]["bastion/prompt-injection"] is True
    assert {"bastion/pii", "bastion/privacy"} <= set(result["categories"])
    assert set(OPENAI_CATEGORIES) <= set(result["categories"])
    assert not any(result["categories"][name] for name in OPENAI_CATEGORIES)


@pytest.mark.anyio
async def test_openai_model_names_mean_the_default_policy(http: httpx.AsyncClient) -> None:
    body = {"input": "bomb", "model": "omni-moderation-latest"}
    response = await http.post("/v1/moderations", json=body, headers=AUTH)
    assert response.json()["model"] == "violence"
    response = await http.post("/v1/moderations", json={"input": "x", "model": "gpt-9"},
                               headers=AUTH)
    error = assert_error(response, 404, "policy_not_found")
    assert error["param"] == "model"


@pytest.mark.anyio
async def test_a_classifier_error_is_a_503_never_unflagged(http: httpx.AsyncClient) -> None:
    response = await http.post("/v1/moderations", json={"input": ["fine", f"x {FAIL}"]},
                               headers=AUTH)
    error = assert_error(response, 503, "classifier_error")
    assert error["type"] == "server_error"
    assert "fail closed" in error["message"] or "no moderation result" in error["message"]
    assert "results" not in response.json()


# --- classify and policies ------------------------------------------------------------------

@pytest.mark.anyio
async def test_classify_returns_verdicts_and_the_policy(http: httpx.AsyncClient) -> None:
    response = await http.post("/v1/classify", json={"texts": ["hi", "bomb"]}, headers=AUTH)
    assert response.status_code == 200
    body = response.json()
    assert [v["kind"] for v in body["verdicts"]] == ["safe", "violation"]
    assert body["verdicts"][1]["categories"][0]["code"] == "VIO"
    assert body["policy"]["id"] == "violence"
    assert len(body["policy"]["hash"]) == 64


@pytest.mark.anyio
async def test_classify_reports_error_verdicts_as_blocking(http: httpx.AsyncClient) -> None:
    response = await http.post("/v1/classify", json={"text": FAIL}, headers=AUTH)
    [verdict] = response.json()["verdicts"]
    assert (verdict["kind"], verdict["action"]) == ("error", "block")


@pytest.mark.anyio
async def test_policies_lists_ids_versions_hashes_and_categories(
    http: httpx.AsyncClient,
) -> None:
    body = (await http.get("/v1/policies", headers=AUTH)).json()
    assert body["default"] == "violence"
    by_id = {p["id"]: p for p in body["data"]}
    assert {"violence", "hate"} <= set(by_id)
    violence = by_id["violence"]
    assert violence["version"]
    assert len(violence["hash"]) == 64
    assert violence["categories"][0]["code"] == "VIO"
    assert set(violence["categories"][0]) == {"code", "name", "action", "threshold", "severity"}


@pytest.mark.anyio
async def test_unknown_policy_is_404_naming_the_available_ones(
    http: httpx.AsyncClient,
) -> None:
    response = await http.post("/v1/classify", json={"text": "x", "policy": "nope"},
                               headers=AUTH)
    error = assert_error(response, 404, "policy_not_found")
    assert error["param"] == "policy"
    assert "'violence'" in error["message"]
    assert "'nope'" in error["message"]


@pytest.mark.anyio
async def test_inline_policy_text_classifies(http: httpx.AsyncClient) -> None:
    body = {"texts": ["zap him", "hello"], "policy_text": INLINE_POLICY}
    response = await http.post("/v1/classify", json=body, headers=AUTH)
    assert response.status_code == 200, response.text
    payload = response.json()
    assert payload["policy"]["id"] == "zapping"
    assert payload["policy"]["version"] == "2"
    assert [v["kind"] for v in payload["verdicts"]] == ["violation", "safe"]


@pytest.mark.anyio
async def test_a_broken_inline_policy_is_422_with_the_lint_message(
    http: httpx.AsyncClient,
) -> None:
    broken = INLINE_POLICY.replace("    threshold: 0.5\n", "")
    response = await http.post("/v1/classify", json={"text": "x", "policy_text": broken},
                               headers=AUTH)
    error = assert_error(response, 422, "invalid_policy")
    assert "<policy_text>:" in error["message"]
    assert "threshold" in error["message"]


@pytest.mark.anyio
@pytest.mark.parametrize("include", ["/etc/secrets.md", "../../../../etc/passwd", "nope"])
async def test_inline_policies_may_include_only_builtins(
    http: httpx.AsyncClient, include: str
) -> None:
    text = INLINE_POLICY.replace('version: "2"\n', f'version: "2"\ninclude: ["{include}"]\n')
    response = await http.post("/v1/classify", json={"text": "x", "policy_text": text},
                               headers=AUTH)
    error = assert_error(response, 422, "invalid_policy")
    assert "built-in polic" in error["message"]  # the loader refuses files and paths


@pytest.mark.anyio
async def test_inline_policies_can_be_switched_off() -> None:
    async with serving(make_settings(allow_inline_policies=False)) as http:
        body = {"text": "x", "policy_text": INLINE_POLICY}
        response = await http.post("/v1/classify", json=body, headers=AUTH)
        assert_error(response, 403, "inline_policy_disabled")


@pytest.mark.anyio
async def test_before_the_classifier_is_ready_requests_get_503() -> None:
    app = create_app(make_settings())  # lifespan never runs: the classifier never loads
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        assert (await http.get("/readyz", headers=AUTH)).json()["status"] == "loading"
        response = await http.post("/v1/moderations", json={"input": "x"}, headers=AUTH)
        assert_error(response, 503, "not_ready")
        assert response.headers["retry-after"]


@pytest.mark.anyio
async def test_readyz_reports_a_tier_that_cannot_start() -> None:
    settings = make_settings(tier_options={"no_such_option": 1})
    async with serving(settings, ready=False) as http:
        with anyio.fail_after(5):
            while (body := (await http.get("/readyz", headers=AUTH)).json())["status"] == "loading":
                await anyio.sleep(0.01)
        assert body["status"] == "failing"
        assert "no_such_option" in body["error"]


def test_an_unknown_tier_fails_at_startup() -> None:
    with pytest.raises(ConfigError, match="unknown classifier tier"):
        create_app(make_settings(tier="no-such-tier"))


# --- request errors -------------------------------------------------------------------------

@pytest.mark.anyio
async def test_a_lying_content_length_still_gets_413() -> None:
    async with serving(make_settings(max_body_bytes=1000)) as http:
        body = json.dumps({"text": "a" * 5000})
        response = await post_raw(http, "/v1/classify", body, **{"Content-Length": "20"})
        assert_error(response, 413, "request_too_large")


@pytest.mark.anyio
async def test_a_declared_or_streamed_oversize_body_gets_413() -> None:
    async with serving(make_settings(max_body_bytes=1000)) as http:
        response = await post_raw(http, "/v1/classify", b"x" * 1001)
        assert_error(response, 413, "request_too_large")

        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(10):
                yield b" " * 200

        response = await http.post("/v1/classify", content=chunks(),
                                   headers={"Content-Type": "application/json", **AUTH})
        assert "content-length" not in response.request.headers
        assert_error(response, 413, "request_too_large")


@pytest.mark.anyio
@pytest.mark.parametrize(("content", "expected"), [
    # Python 3.13 points at the trailing comma (column 13), earlier ones after it (14).
    (b'{"text": "a",}', "line 1 column 1"),
    (b'{"texts": [', "line 1 column 12"),
    (b"\xff\xfe{}", "not UTF-8"),
    (b"[" * 100_000, "nested too deeply"),
    (b'{"text": ' + b"1" * 5000 + b"}", "not valid JSON"),
])
async def test_broken_json_is_400_saying_where(
    http: httpx.AsyncClient, content: bytes, expected: str
) -> None:
    error = assert_error(await post_raw(http, "/v1/classify", content), 400, "invalid_json")
    assert expected in error["message"]


@pytest.mark.anyio
@pytest.mark.parametrize(("path", "body", "param"), [
    ("/v1/classify", {"text": "x", "polcy": "violence"}, "polcy"),
    ("/v1/moderations", {"input": "x", "user": "me"}, "user"),
    ("/v1/moderations", {"input": [{"type": "text", "text": "x", "extra": 1}]}, "input.0.extra"),
])
async def test_unknown_fields_are_422_naming_the_field(
    http: httpx.AsyncClient, path: str, body: dict[str, Any], param: str
) -> None:
    error = assert_error(await http.post(path, json=body, headers=AUTH), 422, "unknown_field")
    assert error["param"] == param
    assert repr(param) in error["message"]


@pytest.mark.anyio
@pytest.mark.parametrize(("path", "body", "param"), [
    ("/v1/classify", {"texts": "not a list"}, "texts"),
    ("/v1/classify", {"texts": ["ok", 3]}, "texts.1"),
    ("/v1/classify", {"text": True}, "text"),
    ("/v1/moderations", {"input": 42}, "input"),
    ("/v1/moderations", {"input": [{"type": "video"}]}, "input.0"),
    ("/v1/moderations", {"input": [{"type": "text"}]}, "input.0.text"),
    ("/v1/moderations", [{"input": "x"}], None),
])
async def test_wrong_types_are_422(
    http: httpx.AsyncClient, path: str, body: Any, param: str | None
) -> None:
    response = await http.post(path, json=body, headers=AUTH)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["param"] == param


@pytest.mark.anyio
async def test_missing_input_is_422(http: httpx.AsyncClient) -> None:
    response = await http.post("/v1/moderations", json={"model": "violence"}, headers=AUTH)
    assert assert_error(response, 422, "missing_field")["param"] == "input"
    response = await http.post("/v1/classify", json={"policy": "violence"}, headers=AUTH)
    assert_error(response, 422, "invalid_input")
    response = await http.post("/v1/classify", json={"text": "a", "texts": ["b"]}, headers=AUTH)
    assert_error(response, 422, "invalid_input")


@pytest.mark.anyio
@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", ""])
async def test_a_json_body_is_read_whatever_the_content_type(
    http: httpx.AsyncClient, content_type: str
) -> None:
    # `curl -d` sends a form content type and some clients none; the gateway reads such
    # bodies too, so the README's curl works against both servers.
    response = await http.post("/v1/moderations", content=b'{"input": "x"}',
                               headers={"Content-Type": content_type, **AUTH})
    assert response.status_code == 200


@pytest.mark.anyio
async def test_a_form_body_is_400_naming_the_content_type(http: httpx.AsyncClient) -> None:
    response = await http.post("/v1/moderations", content=b"input=x",
                               headers={"Content-Type": "application/x-www-form-urlencoded",
                                        **AUTH})
    message = assert_error(response, 400, "invalid_json")["message"]
    assert "'application/x-www-form-urlencoded'" in message
    assert "Content-Type: application/json" in message


@pytest.mark.anyio
async def test_a_json_content_type_with_charset_is_fine(http: httpx.AsyncClient) -> None:
    response = await post_raw(http, "/v1/moderations", b'{"input": "x"}',
                              **{"Content-Type": "Application/JSON; charset=utf-8"})
    assert response.status_code == 200


@pytest.mark.anyio
async def test_limits_on_texts() -> None:
    async with serving(make_settings(max_texts=3, max_text_chars=10)) as http:
        response = await http.post("/v1/moderations", json={"input": ["a"] * 4}, headers=AUTH)
        assert_error(response, 422, "too_many_texts")
        response = await http.post("/v1/classify", json={"texts": ["ok", "x" * 11]},
                                   headers=AUTH)
        assert assert_error(response, 422, "text_too_long")["param"] == "texts.1"
        response = await http.post("/v1/classify", json={"text": "x" * 11}, headers=AUTH)
        assert assert_error(response, 422, "text_too_long")["param"] == "text"
        response = await http.post("/v1/moderations", json={"input": ["x" * 11]}, headers=AUTH)
        assert assert_error(response, 422, "text_too_long")["param"] == "input.0"
        response = await http.post("/v1/moderations", json={"input": []}, headers=AUTH)
        assert_error(response, 422, "empty_input")
        response = await http.post("/v1/classify", json={"texts": ["x" * 10]}, headers=AUTH)
        assert response.status_code == 200


@pytest.mark.anyio
async def test_unknown_routes_and_methods_are_openai_shaped(http: httpx.AsyncClient) -> None:
    assert_error(await http.get("/v1/nothing", headers=AUTH), 404, "http_404")
    assert_error(await http.get("/v1/moderations", headers=AUTH), 405, "http_405")


# --- hostile unicode ------------------------------------------------------------------------

HOSTILE = [
    "\u202ebmob\u202c bomb",            # right-to-left override
    "b\u200bomb then bomb",              # zero-width space
    "nul \x00 byte bomb",
    "lone \ud800 surrogate bomb \udfff",
    "👩‍👩‍👧‍👦 family bomb 🏳️‍⚧️",
    "Z\u0351\u0358\u0361a\u035c\u0358l\u0360go bomb",
    "\ufeffbom bomb \U000e0041\U000e0042",  # BOM and tag characters
]


@pytest.mark.anyio
async def test_hostile_unicode_never_crashes_and_spans_point_into_the_text(
    http: httpx.AsyncClient,
) -> None:
    body = json.dumps({"texts": HOSTILE})  # ASCII with \u escapes, lone surrogates included
    response = await post_raw(http, "/v1/classify", body)
    assert response.status_code == 200, response.text
    assert response.content.isascii()  # every non-ASCII character arrives JSON-escaped
    for text, verdict in zip(HOSTILE, response.json()["verdicts"], strict=True):
        assert verdict["kind"] == "violation"
        span = verdict["evidence"][0]
        assert text[span["start"]:span["end"]] == "bomb"


@pytest.mark.anyio
@pytest.mark.parametrize("name", HOSTILE)
async def test_hostile_unicode_round_trips_in_error_fields(
    http: httpx.AsyncClient, name: str
) -> None:
    response = await post_raw(http, "/v1/moderations", json.dumps({"input": "x", name: 1}))
    assert response.content.isascii()
    if "\ud800" in name:  # pydantic refuses a lone surrogate in a key: still a clean 422
        assert_error(response, 422, "invalid_type")
    else:
        assert assert_error(response, 422, "unknown_field")["param"] == name


# --- one real server ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def live_server() -> Iterator[str]:
    """A real uvicorn server on a free loopback port, in a thread; yields its base URL."""
    app = create_app(make_settings(max_body_bytes=4096))
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive(), "uvicorn stopped while starting"
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    while httpx.get(f"{url}/readyz", headers=AUTH).status_code != 200:
        assert time.monotonic() < deadline, "classifier did not become ready"
        time.sleep(0.01)
    yield url
    server.should_exit = True
    thread.join(timeout=10)


def test_real_server_moderates_over_http(live_server: str) -> None:
    with httpx.Client(base_url=live_server, headers=AUTH) as client:
        assert client.get("/healthz", headers={"Authorization": ""}).json() == {"status": "ok"}
        response = client.post("/v1/moderations", json={"input": ["fine", "bomb"]})
        assert response.status_code == 200
        assert [r["flagged"] for r in response.json()["results"]] == [False, True]
        assert client.post("/v1/moderations", json={"input": FAIL}).status_code == 503
        assert client.get("/v1/policies", headers={"Authorization": "Bearer no"}).status_code == 401


def test_real_server_cuts_off_an_oversize_chunked_body(live_server: str) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(100):
            yield b" " * 1000

    with httpx.Client(base_url=live_server, headers=AUTH) as client:
        response = client.post("/v1/classify", content=chunks(),
                               headers={"Content-Type": "application/json"})
        assert response.request.headers["transfer-encoding"] == "chunked"
        assert_error(response, 413, "request_too_large")
