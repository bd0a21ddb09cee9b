"""Credentials written in URLs (``bastion._urls``): the one rule the logs, the error pages,
the red-team reports and the redaction layer share (issue 8)."""

from __future__ import annotations

import pytest

from bastion._urls import mask_credentials, public_url
from bastion.errors import ConfigError
from bastion.serve._logs import redacted_url
from bastion.store._engine import make_engine

TOKEN = "sk-live-abc123XYZ"


@pytest.mark.parametrize(("text", "shown"), [
    ("postgresql://app:Db-pw-1@db/app", "postgresql://app:***@db/app"),
    ("redis://:Redis-pw-2@cache:6379/0", "redis://:***@cache:6379/0"),
    (f"GET https://{TOKEN}@llm.example/v1 failed", "GET https://***@llm.example/v1 failed"),
    ("postgres://app:pa#ss?1@db/app", "postgres://app:***@db/app"),  # hand-written DSN
])
def test_the_credential_of_a_url_in_free_text_is_masked(text: str, shown: str) -> None:
    assert mask_credentials(text) == shown


@pytest.mark.parametrize("text", [
    "write to bob@example.com", "mailto:bob@example.com", "ssh://git@example.com/repo",
    "https://example.com/@bob", "https://example.com/x?to=bob@example.com",
    "http://localhost:8080/x?to=bob@example.com", "postgresql://postgres@127.0.0.1/db",
])
def test_an_email_address_in_prose_or_a_login_name_is_left_as_it_is(text: str) -> None:
    assert mask_credentials(text) == text


@pytest.mark.parametrize("token", [
    "qzvtkrmwplxnbcdfghjstvwq",  # 24 random lowercase letters: longer than a word is
    "kwmhbfrtpz",  # a run of consonants no word or name has
    "glpat-abcdefghijklmnopqrst",  # a GitLab token's shape, though all lowercase
])
def test_a_lowercase_token_written_as_the_user_is_masked(token: str) -> None:
    """A lone userinfo of lowercase letters was taken for a login name and shown whole."""
    assert mask_credentials(f"GET https://{token}@llm.example/v1 failed") == \
        "GET https://***@llm.example/v1 failed"
    assert public_url(f"https://{token}@llm.example/v1") == "https://***@llm.example/v1"


@pytest.mark.parametrize("text", [
    "ssh://git@github.com/org/repo", "postgres://postgres@db/app",
    "https://first.last@example.org/", "ftp://anonymous@ftp.example.org/pub",
    "ssh://jschmidt@build.example", "https://maximilian_schwarzenberger@example.org",
    "write to first.last@example.org or a.very.long.firstname.lastname@example.org",
])
def test_login_names_and_email_addresses_stay_readable(text: str) -> None:
    assert mask_credentials(text) == text


def test_a_configured_url_keeps_what_each_reader_needs() -> None:
    url = f"https://bot:Pw-123@llm.example/v1?api_key={TOKEN}&lang=en&user=${{USER_KEY}}#top"
    assert public_url(url) == "https://bot:***@llm.example/v1?api_key=***&lang=en" \
        "&user=${USER_KEY}#top"
    assert redacted_url(url) == "https://***@llm.example/v1?…"  # a server log: shape only
    assert public_url(f"https://{TOKEN}@llm.example/v1") == "https://***@llm.example/v1"


def test_the_database_url_in_an_unusable_url_message_holds_no_credential() -> None:
    """``make_engine``'s message masked a password but showed a token as the user and a
    password given as a query value (``?password=``)."""
    with pytest.raises(ConfigError) as info:
        make_engine(f"mysql://{TOKEN}@db/app?password=Db-pw-9012&charset=utf8")
    assert "'mysql://***@db/app?password=***&charset=utf8' is not usable" in str(info.value)
