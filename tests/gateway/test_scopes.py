"""Model scopes: which model names a key's patterns let it name."""

from __future__ import annotations

import pytest

from bastion.accounts import Scopes

from .conftest import Running

CHAT = {"model": "scripted-upstream", "messages": [{"role": "user", "content": "hi"}]}


@pytest.mark.parametrize(("pattern", "model", "allowed"), [
    ("gpt-4*", "gpt-4o", True),
    ("gpt-4*", "gpt-4o/../../anthropic/claude-3-opus", False),
    ("gpt-*", "gpt-x/anthropic/claude-3-opus", False),
    ("openai/*", "openai/gpt-4o", True),
    ("openai/*", "openai/azure/gpt-4o", False),
    ("*-mini", "gpt-4o-mini", True),
    ("*-mini", "openrouter/openai/gpt-4o-mini", False),
    ("*/*-mini", "openai/gpt-4o-mini", True),
    ("openrouter/**", "openrouter/anthropic/claude-3-opus", True),
    ("openrouter/**", "openrouter-eu/anthropic/claude-3-opus", False),
    ("**/*-mini", "openrouter/openai/gpt-4o-mini", True),
    ("**/*-mini", "gpt-4o-mini", True),
    ("llama-3.?-8b", "llama-3.1-8b", True),
    ("llama-3.?-8b", "llama-3./-8b", False),
    ("gpt-4o", "GPT-4o", False),
])
def test_a_model_pattern_matches_within_the_parts_of_a_name(pattern: str, model: str,
                                                            allowed: bool) -> None:
    """Issue 8: model scopes were matched with fnmatch, whose '*' crosses '/', so 'gpt-*'
    let a key name 'gpt-x/anthropic/claude-3-opus' and 'openai/*' any name under it, however
    deep: an upstream that routes on a provider prefix (LiteLLM, OpenRouter) gave it another
    provider's model. '*' and '?' now stay within one '/'-separated part, as in a path;
    '**' as a whole part spans any number of parts."""
    assert Scopes(models=(pattern,)).allows_model(model) is allowed


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize("model", ["gpt-x/anthropic/claude-3-opus", "openai/../anthropic/x",
                                   "openai/./gpt-4o", "openai//gpt-4o", "openai/gpt-4o/"])
def test_a_scoped_key_cannot_reach_a_model_outside_its_parts(gw: Running,
                                                             model: str) -> None:
    """Through the gateway: a key scoped to 'gpt-*' and 'openai/*' is refused a deeper name
    (403), and a name with an empty, '.' or '..' part, which only a path-walking upstream
    would read, is no model id at all (400)."""
    with gw.client(gw.key("scoped", models=["gpt-*", "openai/*"])) as client:
        refused = client.post("/chat/completions", json={**CHAT, "model": model})
        served = client.post("/chat/completions", json={**CHAT, "model": "openai/gpt-4o"})
    assert refused.status_code in (400, 403), refused.text
    assert refused.json()["error"]["param"] == "model"
    assert served.status_code == 200, served.text


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize("model", ["openai/../anthropic/x", "openai/./gpt-4o", "openai//gpt-4o",
                                   "openai/gpt-4o/", "openai/gpt-4o/.."])
def test_a_model_name_that_walks_a_path_is_no_model_id(gw: Running, model: str) -> None:
    """'openai/**' lets a key name anything under openai/, and 'openai/../anthropic/x' is
    under it part by part; an upstream that reads the name as a path (a router, a
    deployment URL) would read another provider's model. No model id has such a part."""
    with gw.client(gw.key("deep", models=["openai/**"])) as client:
        refused = client.post("/chat/completions", json={**CHAT, "model": model})
        served = client.post("/chat/completions", json={**CHAT, "model": "openai/o1/mini"})
    assert refused.status_code == 400, refused.text
    assert "'.' or '..' part" in refused.json()["error"]["message"]
    assert served.status_code == 200, served.text
