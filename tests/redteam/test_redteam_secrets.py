"""A target's credentials never reach a campaign's log, reports or terminal, even echoed back.

Found in session 32's black-box pass (/tmp/s32/h9/catalogue.md): a server that shows the
request in its error page, or a model that repeats its headers, put the API key read from
``api_key_env`` ("the key never enters logs") into the log, the JUnit report and the
terminal's "first error" line.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import anyio
import httpx
import pytest

from bastion.errors import ConfigError
from bastion.redteam import Attacker, Campaign, make_config
from bastion.redteam._config import credentials, public_options, public_url, scrub
from bastion.redteam.reports import write_reports
from bastion.redteam.targets._http import HttpTarget
from bastion.redteam.targets._openai import OpenAITarget

KEY = "sk-live-0123456789abcdef"


def _echo(request: httpx.Request) -> httpx.Response:
    """A server that echoes the request's credentials: in an error page, then in replies."""
    shown = f"{request.headers.get('authorization')} {request.headers.get('x-api-key')} " \
            f"{request.url}"
    if "Ignore" in request.content.decode():
        return httpx.Response(500, text=f"internal error handling request: {shown}")
    reply = f"Your key is {shown}"
    if request.url.path.endswith("/chat/completions"):
        return httpx.Response(200, json={"choices": [{"message": {"content": reply},
                                                      "finish_reason": "stop"}]})
    return httpx.Response(200, json={"response": reply})


def _run(target: HttpTarget | OpenAITarget, tmp_path: Path) -> str:
    config = make_config(target=target.name, probes=["injection_direct"], retries=0,
                         harm_tier="rules")
    log = tmp_path / "run.jsonl"
    attempts = anyio.run(Campaign(config, target=target).run, log)
    assert any(a.error for a in attempts)
    assert any(a.turns for a in attempts)
    header = json.loads(log.read_text().splitlines()[0])
    write_reports(attempts, header, tmp_path / "reports")
    return "\n".join([log.read_text(), *(f.read_text() for f in (tmp_path / "reports").iterdir()),
                      *(a.error or "" for a in attempts)])


def test_an_api_key_the_server_echoes_is_never_recorded(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TARGET_KEY", KEY)
    target = OpenAITarget("http://model.test/v1", api_key_env="TARGET_KEY",
                          transport=httpx.MockTransport(_echo))
    recorded = _run(target, tmp_path)
    assert KEY not in recorded
    assert "Your key is [redacted]" in recorded


def test_http_header_and_url_keys_the_server_echoes_are_never_recorded(tmp_path: Path) -> None:
    target = HttpTarget(f"http://app.test/chat?code={KEY}x", headers={"X-Api-Key": KEY},
                        transport=httpx.MockTransport(_echo))
    recorded = _run(target, tmp_path)
    assert KEY not in recorded
    assert "500" in recorded


def test_credentials_and_scrub() -> None:
    found = credentials({"Authorization": f"Bearer {KEY}", "X-Trace": "abcdefgh",
                         "X-Api-Key": "short"},
                        f"http://u:pw-123456@h.test/?sig={KEY}9&lang=en-GB&code=x")
    assert set(found) == {f"Bearer {KEY}", KEY, "pw-123456", f"{KEY}9"}
    assert scrub(f"a Bearer {KEY} b {KEY}9", found) == "a [redacted] b [redacted]"
    # Azure Functions' ?code= and a SAS ?sig= are keys though their names do not say so.
    assert public_url("https://f.test/api?code=abc&x=1&sig=s") == \
        "https://f.test/api?code=[redacted]&x=1&sig=[redacted]"


def test_a_token_written_as_the_user_of_a_url_is_redacted() -> None:
    """``https://TOKEN@host`` (issue 8): reports, messages and ``gateway config`` showed the
    token whole, since only a password was redacted; a plain login name stays readable."""
    url = f"https://{KEY}@llm.example/v1?lang=en-GB"
    assert public_url(url) == "https://[redacted]@llm.example/v1?lang=en-GB"
    assert KEY in credentials({}, url)  # scrubbed from what a server echoes too
    assert public_url("ssh://git@code.example/repo") == "ssh://git@code.example/repo"


def test_a_key_in_extra_body_is_redacted_in_the_log_header() -> None:
    config = make_config(target="openai", target_options={
        "base_url": "http://m.test/v1", "extra_body": {"api_key": KEY, "top_p": 0.9}})
    dumped = json.dumps(config.public_dump())
    assert KEY not in dumped
    assert '"top_p": 0.9' in dumped


@pytest.mark.parametrize("name", ["Authorization", "authorization"])
def test_an_authorization_header_beside_api_key_env_is_refused(
        name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # The key of api_key_env replaced the header's token without a word.
    monkeypatch.setenv("TARGET_KEY", KEY)
    with pytest.raises(ConfigError, match="only one can be sent"):
        OpenAITarget("http://m.test/v1", api_key_env="TARGET_KEY",
                     headers={name: "Bearer other-token"})
    OpenAITarget("http://m.test/v1", headers={name: "Bearer other-token"})
    OpenAITarget("http://m.test/v1", api_key_env="TARGET_KEY", headers={"X-Trace": "1"})


@pytest.mark.parametrize("make", [
    lambda: OpenAITarget("http://m.test/v1", api_key_env="TARGET_KEY"),
    lambda: OpenAITarget("http://m.test/v1", headers={"X-Api-Key": "${TARGET_KEY}"}),
    lambda: HttpTarget("http://a.test/", headers={"Authorization": "Bearer ${TARGET_KEY}"}),
    lambda: Attacker("http://a.test/v1", api_key_env="TARGET_KEY"),
])
def test_a_key_ending_in_a_newline_is_refused_without_showing_it(
        make: Callable[[], object], monkeypatch: pytest.MonkeyPatch) -> None:
    # httpx refused the header at every request with "Illegal header value b'Bearer sk-...\n'",
    # which reached the log and the terminal: the key, and its newline escaped, past the scrub.
    monkeypatch.setenv("TARGET_KEY", KEY + "\n")
    with pytest.raises(ConfigError, match="line break") as info:
        make()
    assert KEY not in str(info.value)
    assert "TARGET_KEY" in str(info.value)


def test_a_literal_header_value_with_a_line_break_is_refused() -> None:
    with pytest.raises(ConfigError, match="HTTP target header 'X-A' holds a line break"):
        HttpTarget("http://a.test/", headers={"X-A": "a\nb"})


def test_a_key_in_the_body_or_extra_body_can_come_from_the_environment(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A key the API reads from the body had to be written there, and the log kept it whole;
    # '${NAME}' was sent as written (and read as an unknown slot).
    monkeypatch.setenv("TARGET_KEY", KEY)
    monkeypatch.setenv("SEED", "1")
    seen: list[bytes] = []

    def echo(request: httpx.Request) -> httpx.Response:
        seen.append(request.content)
        return httpx.Response(200, json={"response": f"you sent {request.content.decode()}"})

    body = '{"prompt": "{prompt}", "apikey": "${TARGET_KEY}", "seed": "${SEED}"}'
    target = HttpTarget("http://app.test/", body=body, transport=httpx.MockTransport(echo))
    config = make_config(target="http", target_options={"url": "http://app.test/", "body": body},
                         probes=["injection_direct"], harm_tier="rules", limit=2)
    log = tmp_path / "run.jsonl"
    attempts = anyio.run(Campaign(config, target=target).run, log)
    assert json.loads(seen[0])["apikey"] == KEY
    assert KEY not in log.read_text()
    assert "${TARGET_KEY}" in log.read_text(), "the log keeps the reference for a rerun"
    assert all('"seed": "1"' in a.turns[0].response for a in attempts), "'1' is no key"
    monkeypatch.setenv("MODEL_KEY", KEY)
    model = OpenAITarget("http://m.test/v1", extra_body={"api_key": "${MODEL_KEY}", "n": 1})
    assert model.extra_body == {"api_key": KEY, "n": 1}
    assert KEY in model.credentials


def test_a_session_id_header_is_a_template_the_log_keeps_even_under_a_secret_name() -> None:
    # -T 'headers={"X-Session-Token": "{session_id}"}' (6ef4064) was logged as '[redacted]'
    # for its name, so a rerun refused to start until the slot was typed again.
    options = {"url": "http://bot/chat", "headers": {
        "X-Session-Token": "{session_id}", "Authorization": "Bearer sk-live-123456"}}
    assert public_options(options)["headers"] == {"X-Session-Token": "{session_id}",
                                                  "Authorization": "[redacted]"}
