"""Login names with digits in a URL's userinfo are names, not tokens (``bastion._urls``).

``ssh://ec2-user@host``, ``ssh://user1@host``, ``postgres://admin2@db`` were masked as if the
user were a token: a model's answer on how to log in to a cloud machine reached the client
with ``[REDACTED_SECRET_1]`` where the login name was, and a prompt quoting one reached the
upstream so (issue 8). A token with digits written as the user stays masked.
"""

from __future__ import annotations

import json

import pytest

from bastion._urls import login_name, mask_credentials

from .conftest import RawUpstream, Running, sse_frames

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])

NAMES = ["ec2-user", "user1", "admin2", "web01", "deploy-01", "centos7", "svc-backup01",
         "student42", "first.last7", "ubuntu", "pi"]
TOKENS = ["a8f3k2m9q0x1z7w4b6c5", "3f2b8c1e9d4a4e7b", "k2j4h6g8f0", "tok3n5ecr3t9abc",
          "deadbeef01234567cafe", "zq8x7w6v5u4t3s2r1p0n"]


def _answer(user: str) -> str:
    return f"Log in with ssh://{user}@203.0.113.5 and run uptime. Then check the disk."


def _chat(content: str) -> dict[str, object]:
    return {"id": "c", "object": "chat.completion", "model": "m", "choices": [
        {"index": 0, "finish_reason": "stop",
         "message": {"role": "assistant", "content": content}}]}


def _shown(raw_gw: tuple[RawUpstream, Running], content: str, *, stream: bool) -> str:
    raw, gw = raw_gw
    raw.body = _chat(content)
    raw.frames = [{"choices": [{"index": 0, "delta": {"content": content[at:at + 6]}}]}
                  for at in range(0, len(content), 6)]
    with gw.client(gw.key(f"names-{stream}")) as client:
        response = client.post("/chat/completions", json={
            "model": "m", "stream": stream,
            "messages": [{"role": "user", "content": "how do I log in?"}]})
    assert response.status_code == 200, response.text
    if not stream:
        return str(response.json()["choices"][0]["message"]["content"])
    frames = sse_frames(response.text)
    assert frames[-1] == "[DONE]", response.text
    return "".join(json.loads(f)["choices"][0]["delta"].get("content", "")
                   for f in frames[:-1])


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
@pytest.mark.parametrize("user", ["ec2-user", "user1", "admin2"])
def test_a_login_name_with_digits_in_an_answer_reaches_the_client(
        raw_gw: tuple[RawUpstream, Running], user: str, stream: bool) -> None:
    """Before: shown as 'ssh://[REDACTED_SECRET_1]@203.0.113.5'."""
    assert _shown(raw_gw, _answer(user), stream=stream) == _answer(user)


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
@pytest.mark.parametrize("token", TOKENS[:3])
def test_a_token_with_digits_written_as_the_user_is_still_masked(
        raw_gw: tuple[RawUpstream, Running], token: str, stream: bool) -> None:
    shown = _shown(raw_gw, _answer(token), stream=stream)
    assert token not in shown
    assert shown.startswith("Log in with ssh://[REDACTED_SECRET_1]@203.0.113.5"), shown


def test_a_prompt_quoting_a_login_name_with_digits_reaches_the_upstream_as_written(
        raw_gw: tuple[RawUpstream, Running]) -> None:
    """Before: the upstream read 'ssh://[SECRET_1]@10.0.0.5'."""
    raw, gw = raw_gw
    raw.body = _chat("Sure.")
    prompt = "Why does ssh://ec2-user@10.0.0.5 refuse me, and postgres://admin2@db too?"
    with gw.client(gw.key("names-prompt")) as client:
        response = client.post("/chat/completions", json={
            "model": "m", "messages": [{"role": "user", "content": prompt}]})
    assert response.status_code == 200, response.text
    assert raw.requests[-1]["messages"][0]["content"] == prompt


@pytest.mark.parametrize("user", NAMES)
def test_login_names_with_digits_are_names(backend: str, user: str) -> None:
    del backend  # (the module's parametrisation; no gateway here)
    assert login_name(user)
    assert mask_credentials(f"ssh://{user}@host") == f"ssh://{user}@host"


@pytest.mark.parametrize("token", TOKENS)
def test_tokens_with_digits_are_no_names(backend: str, token: str) -> None:
    del backend
    assert not login_name(token)
    assert mask_credentials(f"https://{token}@host/v1") == "https://***@host/v1"
