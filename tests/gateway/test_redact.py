"""The redact action: PII and secrets are masked before the upstream, restored in answers."""

from __future__ import annotations

import itertools
import json
import re

import pytest
from sqlalchemy import MetaData, select
from sqlalchemy.orm import Session, sessionmaker

from bastion.monitor import EventStore
from bastion.redact import Detectors, StreamMasker, StreamRestorer, Vault, iban_ok, luhn_ok
from bastion.testing import ScriptedUpstream, Turn, serve_app, wait_until

from .conftest import GatewayFactory, RawUpstream, Running, sse_frames, streamed_text

CARD = "4111 1111 1111 1111"
EMAIL = "bob.smith@example.com"
PROMPT = f"Please confirm my card {CARD} and mail {EMAIL} back to me"


def chat(text: str, stream: bool = False) -> dict[str, object]:
    return {"model": "m", "stream": stream, "messages": [{"role": "user", "content": text}]}


#: A random hexadecimal id (the gateway's pseudonyms, chunk ids): it may hold "1111" by chance.
_RANDOM_ID = re.compile(r"\b(?=[0-9a-f]*[a-f])[0-9a-f]{16,}\b")


def without_random_ids(text: str) -> str:
    """``text`` without random hexadecimal ids, so a check for a card number's digits cannot
    fail on one (a pseudonym 'bastion-3c72a1111634...' did once); digits alone stay."""
    return _RANDOM_ID.sub("<id>", text)


def test_detectors_find_each_kind_with_checksums() -> None:
    detectors = Detectors("US")
    text = ("card 4111-1111-1111-1111, not a card 4111 1111 1111 1112, iban "
            "GB82 WEST 1234 5698 7654 32, phone +1 650-253-0000, key sk-abcdefghijklmnopqrstuv, "
            "mail a@b.io, -----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----")
    kinds = [e.kind for e in detectors.find(text)]
    assert kinds == ["CARD", "IBAN", "PHONE", "SECRET", "EMAIL", "PRIVATE_KEY"]
    assert luhn_ok("4111111111111111")
    assert not luhn_ok("4111111111111112")
    assert iban_ok("GB82 WEST 1234 5698 7654 32")
    assert not iban_ok("GB83 WEST 1234 5698 7654 32")


def test_vault_masks_consistently_and_restores_split_placeholders() -> None:
    vault = Vault(Detectors())
    masked = vault.mask(f"{EMAIL} and again {EMAIL}, card {CARD}")
    assert masked == "[EMAIL_1] and again [EMAIL_1], card [CARD_1]"
    restorer = StreamRestorer(vault)
    pieces = [restorer.feed(p) for p in ("Mail [EMA", "IL_", "1] now [CA", "RD_1]")]
    assert pieces == ["Mail ", "", EMAIL + " now ", CARD]
    assert restorer.finish() == ""
    assert vault.restore("[EMAIL_9] is unknown") == "[EMAIL_9] is unknown"


def test_stream_masker_replaces_a_value_where_it_starts_and_drops_the_rest() -> None:
    masker = StreamMasker(Vault(Detectors(), prefix="REDACTED_"))
    text = f"mail {EMAIL} now"
    cuts = [0, 8, 15, len(text)]
    out = [masker.slice(text, a, b) for a, b in itertools.pairwise(cuts)]
    assert out == ["mail [REDACTED_EMAIL_1]", "", " now"]


def test_upstream_never_sees_pii_and_the_answer_gets_it_back(
        gw: Running, upstream: tuple[ScriptedUpstream, str]) -> None:
    upstream[0].script("confirm my card", Turn(content="Confirmed [CARD_1], writing to "
                                               "[EMAIL_1]."))
    with gw.client(gw.key("alice")) as client:
        response = client.post("/chat/completions", json=chat(PROMPT))
    seen = upstream[0].seen_text()
    assert CARD not in seen
    assert EMAIL not in seen
    assert "[CARD_1]" in seen
    assert "[EMAIL_1]" in seen
    assert response.status_code == 200
    assert response.json()["choices"][0]["message"]["content"] == \
        f"Confirmed {CARD}, writing to {EMAIL}."
    assert response.headers["x-bastion-checks"].startswith("input/default=redact")
    gw.wait_audit(1)
    assert CARD not in json.dumps(gw.audit.events())


def test_streamed_answer_restores_placeholders_split_across_chunks(
        gw: Running, upstream: tuple[ScriptedUpstream, str]) -> None:
    upstream[0].script("confirm my card", Turn(
        content="Confirmed [CARD_1], writing to [EMAIL_1].",
        chunks=("Confirmed [CA", "RD_", "1], writing to [", "EMAIL_1", "].")))
    with gw.client(gw.key("alice")) as client:
        response = client.post("/chat/completions", json=chat(PROMPT, stream=True))
    assert response.text.endswith("data: [DONE]\n\n")
    assert streamed_text(response.text) == f"Confirmed {CARD}, writing to {EMAIL}."
    assert "[CA" not in response.text
    assert "[EMAIL_1" not in response.text


def test_restore_can_be_switched_off(gateway_factory: GatewayFactory,
                                     upstream: tuple[ScriptedUpstream, str]) -> None:
    gw = gateway_factory(redact__restore="false")
    upstream[0].script("confirm my card", Turn(content="Confirmed [CARD_1]."))
    with gw.client(gw.key("alice")) as client:
        response = client.post("/chat/completions", json=chat(PROMPT))
    assert response.json()["choices"][0]["message"]["content"] == "Confirmed [CARD_1]."


KEY_BLOCK = "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\n"


@pytest.mark.parametrize("stream", [False, True])
def test_pii_generated_by_the_model_is_masked_streamed_or_not(
        gw: Running, upstream: tuple[ScriptedUpstream, str], stream: bool) -> None:
    answer = f"Sure, use {CARD} or mail {EMAIL}. Also {KEY_BLOCK}"
    upstream[0].script("leak it", Turn(content=answer, chunks=(
        "Sure, use 4111 11", "11 1111 1111 or mail bob.sm", "ith@example.c", "om. Also -----BEGIN",
        " RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cn",
        "zj4p4WGeKLs1Pt8Qu\n")))
    with gw.client(gw.key("alice")) as client:
        response = client.post("/chat/completions", json=chat("leak it", stream=stream))
    shown = streamed_text(response.text) if stream else \
        response.json()["choices"][0]["message"]["content"]
    assert shown == "Sure, use [REDACTED_CARD_1] or mail [REDACTED_EMAIL_1]. Also " \
        "[REDACTED_PRIVATE_KEY_1]"
    for secret in ("4111", "bob.sm", "example", "MIIB", "zj4p"):
        assert secret not in response.text
    if not stream:
        assert "output/default=redact" in response.headers["x-bastion-checks"]


def test_stream_masker_finds_escaped_values_and_replaces_their_escapes() -> None:
    from bastion.classify import unescape_spans

    masker = StreamMasker(Vault(Detectors(), prefix="REDACTED_"))
    text = '{"to": "bob\\u0040exam' + 'ple.com", "cc": "al\\u0069ce@example.org"}'
    released = [masker.slice(text, a, b, decode=unescape_spans)
                for a, b in ((0, 12), (12, 40), (40, len(text)))]
    assert "".join(released) == '{"to": "[REDACTED_EMAIL_1]", "cc": "[REDACTED_EMAIL_2]"}'
    # the detectors read a text's \u escapes themselves too (a text that holds two or more)
    whole = StreamMasker(Vault(Detectors(), prefix="REDACTED_")).slice(text, 0, len(text))
    assert whole == '{"to": "[REDACTED_EMAIL_1]", "cc": "[REDACTED_EMAIL_2]"}'


def test_model_placeholders_are_never_restored_to_the_callers_values(
        gw: Running, upstream: tuple[ScriptedUpstream, str]) -> None:
    upstream[0].script("confirm my card", Turn(content="Yours is [CARD_1]; mine is "
                                               "5555 5555 5555 4444."))
    with gw.client(gw.key("alice")) as client:
        response = client.post("/chat/completions", json=chat(PROMPT))
    assert response.json()["choices"][0]["message"]["content"] == \
        f"Yours is {CARD}; mine is [REDACTED_CARD_1]."


@pytest.mark.parametrize("mode", ["redact", "hash", "drop"])
def test_audit_content_is_kept_per_policy(gateway_factory: GatewayFactory, mode: str) -> None:
    gw = gateway_factory(audit__content=mode)
    with gw.client(gw.key("alice")) as client:
        assert client.post("/chat/completions", json=chat(PROMPT)).status_code == 200
    gw.wait_audit(1)
    event = [e for e in gw.audit.events() if e["type"] == "gateway.request"][-1]
    dumped = json.dumps(event)
    assert CARD not in dumped
    assert EMAIL not in dumped
    if mode == "redact":
        assert event["content"] == ["Please confirm my card [CARD_1] and mail [EMAIL_1] back to me"]
    elif mode == "hash":
        assert len(event["content"][0]) == 64
    else:
        assert "content" not in event


def test_embeddings_input_is_masked_too(gw: Running,
                                        upstream: tuple[ScriptedUpstream, str]) -> None:
    with gw.client(gw.key("alice")) as client:
        response = client.post("/embeddings", json={"model": "m", "input": ["hi", PROMPT]})
    assert response.status_code == 200
    assert upstream[0].requests[-1]["input"][1] == \
        "Please confirm my card [CARD_1] and mail [EMAIL_1] back to me"


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize("card", [
    "5555.5555.5555.4444", "5555 5555 5555 4444", "5555-5555-5555-4444", "5555555555554444",
    "5555\u00a05555\u00a05555\u00a04444", "5555 - 5555 - 5555 - 4444", "5555/5555/5555/4444",
    "5555\u20135555\u20135555\u20134444", "5555\u202f5555\u202f5555\u202f4444",
    "5555%2E5555%2E5555%2E4444", "5555*5555*5555*4444",
])
def test_cards_in_any_grouping_never_reach_upstream_or_audit(
        gateway_factory: GatewayFactory, upstream: tuple[ScriptedUpstream, str],
        card: str) -> None:
    assert [e.kind for e in Detectors().find(f"card {card} ok")] == ["CARD"]
    gw = gateway_factory(audit__content="redact")
    with gw.client(gw.key("alice")) as client:
        response = client.post("/chat/completions", json=chat(f"charge my card {card} now"))
    assert response.status_code == 200
    assert response.headers["x-bastion-checks"].startswith("input/default=redact")
    assert "4444" not in without_random_ids(upstream[0].seen_text())
    assert upstream[0].requests[-1]["messages"][0]["content"] == "charge my card [CARD_1] now"
    gw.wait_audit(1)
    audit = json.dumps(gw.audit.events(), ensure_ascii=False)
    # The whole number in any grouping (a bare "4444" also turns up in random hex ids).
    assert not re.search(r"5555\D{0,5}5555\D{0,5}5555\D{0,5}4444", audit)
    assert "[CARD_1]" in audit


#: A card's groups quoted, bracketed or listed as people and programs write them.
QUOTED_CARDS = ["(4111)(1111)(1111)(1111)", '"4111" "1111" "1111" "1111"',
                "'4111', '1111', '1111', '1111'", "[4111] [1111] [1111] [1111]",
                "{4111}{1111}{1111}{1111}", "4111\\1111\\1111\\1111", "4111;1111;1111;1111",
                "4111 # 1111 # 1111 # 1111", "\u00ab4111\u00bb \u00ab1111\u00bb \u00ab1111\u00bb \u00ab1111\u00bb"]


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize("card", QUOTED_CARDS)
def test_cards_quoted_or_bracketed_group_by_group_are_masked_both_ways(
        raw_gw: tuple[RawUpstream, Running], card: str) -> None:
    raw, gw = raw_gw
    raw.body = {"id": "c", "object": "chat.completion", "model": "m", "choices": [
        {"index": 0, "finish_reason": "stop",
         "message": {"role": "assistant", "content": f"Noted: {card}."}}]}
    with gw.client(gw.key("alice")) as client:
        response = client.post("/chat/completions", json=chat(f"charge my card {card} now"))
    assert response.status_code == 200
    sent = raw.requests[-1]["messages"][0]["content"]
    assert "[CARD_1]" in sent
    assert not _in_any_grouping("4111111111111111", sent)
    shown = response.json()["choices"][0]["message"]["content"]
    assert "[REDACTED_CARD_1]" in shown
    assert not _in_any_grouping("4111111111111111", shown)


def test_years_and_numbers_in_brackets_are_no_card() -> None:
    # a weak separator counts only in a card's grouping that passes Luhn
    assert Detectors().find("in (2019)(2020)(2021)(2022), ['1234', '5678'] and {12}{34}") == []


def test_long_dotted_numbers_that_fail_luhn_are_left_alone() -> None:
    assert Detectors().find("version 1.2.3.4.5.6.7.8.9.1.2.3.4 and 10.0.0.1") == []


def test_the_digit_count_shortcut_never_hides_a_phone_number() -> None:
    import phonenumbers

    from bastion.redact._detect import _phones, fewest_phone_digits

    assert fewest_phone_digits("US") == 6  # +43 and a four-digit Austrian number
    assert fewest_phone_digits("SH") == 4  # St Helena's four-digit national numbers
    texts = ["call +43 1234", "ring (650) 253-0000 today", "+290 2345", "tel 2345",
             "\uff16\uff15\uff10-\uff12\uff15\uff13-\uff10\uff10\uff10\uff10", "+1 650 253 0000",
             "cup 12 of 6", "room 404, floor 3", "+44 20 7946 0958", "12345"]
    for region in ("US", "GB", "SH", None):
        for text in texts:
            direct = [(m.start, m.end) for m in phonenumbers.PhoneNumberMatcher(text, region)]
            assert [(e.start, e.end) for e in _phones(text, region)] == direct, (region, text)


def _strings(value: object) -> list[str]:
    """Every string in a decoded JSON value (so escapes such as ``\\n`` are real characters)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []


def _in_any_grouping(value: str, text: str) -> bool:
    """True when the letters and digits of ``value`` appear in ``text`` in order, whatever
    separates them (a re-grouped or re-cased copy still counts)."""
    chars = [re.escape(ch) for ch in value if ch.isalnum()]
    return re.search(r"[^0-9A-Za-z]{0,5}".join(chars), text, re.IGNORECASE) is not None


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize(("value", "kind"), [
    ("512-84-3301", "SSN"), ("078-05-1120", "SSN"), ("512 84 3301", "SSN"),
    ("512.84.3301", "SSN"), ("512/84/3301", "SSN"),
    ("4111_1111_1111_1111", "CARD"), ("4111,1111,1111,1111", "CARD"),
    ("4111:1111:1111:1111", "CARD"), ("4111+1111+1111+1111", "CARD"),
    ("4111|1111|1111|1111", "CARD"), ("4111\n1111\n1111\n1111", "CARD"),
    ("\u200b".join("5555555555554444"), "CARD"),
    ("de89370400440532013000", "IBAN"), ("DE89-3704-0044-0532-0130-00", "IBAN"),
    ("DE89.3704.0044.0532.0130.00", "IBAN"), ("fr14 2004 1010 0505 0001 3m02 606", "IBAN"),
    ("jane.doe [at] example [dot] com", "EMAIL"), ("jane.doe at example dot com", "EMAIL"),
    ("five five five five five five five five five five five five four four four four", "CARD"),
    # encoded: the upstream can decode it, so the whole encoded run is masked
    ("NDExMSAxMTExIDExMTEgMTExMQ==", "CARD"), ("am9obkBleGFtcGxlLm9yZw==", "EMAIL"),
])
def test_pii_in_any_format_never_reaches_upstream_or_audit(
        gateway_factory: GatewayFactory, upstream: tuple[ScriptedUpstream, str],
        value: str, kind: str) -> None:
    gw = gateway_factory(audit__content="redact")
    with gw.client(gw.key("alice")) as client:
        response = client.post("/chat/completions", json=chat(f"Please store this: {value} "
                                                               "thanks"))
    assert response.status_code == 200
    assert response.headers["x-bastion-checks"].startswith("input/default=redact")
    sent = upstream[0].requests[-1]["messages"][0]["content"]
    assert sent == f"Please store this: [{kind}_1] thanks"
    gw.wait_audit(1)
    audit = "\n".join(_strings(gw.audit.events()))
    assert not _in_any_grouping(value, audit)
    assert f"[{kind}_1]" in audit
    events = EventStore(gw.sessions)
    wait_until(lambda: any(e.sample for e in events.events()), what="an event with a sample")
    assert [e.sample for e in events.events() if e.sample] == [sent]  # the monitor's copy
    assert not _in_any_grouping(value, "\n".join(_stored_text(gw.sessions)))


@pytest.mark.parametrize(("parts", "value", "kind"), [
    (("my card is 4111 1111", "1111 1111, charge it"), "4111111111111111", "CARD"),
    (("call me on 415-555", "-0134 tonight"), "4155550134", "PHONE"),
    (("my card is 4111", "1111", "1111", "1111, charge it"), "4111111111111111", "CARD"),
    (("mail john.smith", "@example.com, thanks"), "john.smith@example.com", "EMAIL"),
    (("my card is 4111 1111", "go on", "1111 1111, charge it"), "4111111111111111", "CARD"),
])
def test_a_value_split_between_messages_never_reaches_upstream_or_audit(
        gateway_factory: GatewayFactory, upstream: tuple[ScriptedUpstream, str],
        parts: tuple[str, ...], value: str, kind: str) -> None:
    """Found in a black-box pass: each message was masked alone, so a card sent half in one
    message and half in the next reached the upstream, which reads the conversation whole;
    then the same across four messages, of which only the first and last were read together."""
    gw = gateway_factory(audit__content="redact")
    with gw.client(gw.key("alice")) as client:
        response = client.post("/chat/completions", json={"model": "m", "messages": [
            {"role": "user", "content": part} for part in parts]})
    assert response.status_code == 200, response.text
    assert response.headers["x-bastion-checks"].startswith("input/default=redact")
    sent = [m["content"] for m in upstream[0].requests[-1]["messages"]]
    assert sent[0].endswith(f"[{kind}_1]"), sent
    assert all(s.startswith(f"[{kind}_") for s in sent[1:] if s != "go on"), sent
    gw.wait_audit(1)
    audit = "\n".join(_strings(gw.audit.events()))
    for place in (" ".join(sent), audit, "\n".join(_stored_text(gw.sessions))):
        assert not _in_any_grouping(value, place), place
    assert f"[{kind}_2]" in audit


def _stored_text(sessions: sessionmaker[Session]) -> list[str]:
    """Every text value in every table of the gateway's database."""
    tables = MetaData()
    with sessions() as session:
        tables.reflect(bind=session.get_bind())
        return [value for table in tables.sorted_tables
                for row in session.execute(select(table)) for value in row
                if isinstance(value, str)]


@pytest.mark.parametrize("stream", [False, True])
def test_the_header_says_redact_only_when_something_was_masked(
        gateway_factory: GatewayFactory, upstream: tuple[ScriptedUpstream, str],
        stream: bool) -> None:
    """The classifier may say a text holds personal data that no detector can locate ("my
    neighbour John at the blue house"); the text then goes on unchanged, so the check reads
    ``flag``, not ``redact``. A value masked under a ``pass`` verdict reads ``redact``."""
    gw = gateway_factory(classifier__tier="fixed",
                         classifier__options='{scores: {blue house: {PII: 0.99}}}')
    upstream[0].script("blue house", Turn(content="The blue house is on Elm Street.",
                                          chunks=("The blue ", "house is on Elm Street.")))
    upstream[0].script("write to me", Turn(content=f"Sure, I will write to {EMAIL}.",
                                           chunks=("Sure, I will write to bob.sm",
                                                   "ith@example.com.")))
    with gw.client(gw.key("alice")) as client:
        unmaskable = client.post("/chat/completions", json=chat(
            "Where is my neighbour John's blue house?", stream=stream))
        masked = client.post("/chat/completions", json=chat("please write to me", stream=stream))
    assert unmaskable.status_code == masked.status_code == 200
    checks = unmaskable.headers["x-bastion-checks"]
    assert checks.startswith("input/default=flag")
    if stream:
        assert ": bastion-checks output/default=flag" in unmaskable.text
        assert ": bastion-checks output/default=redact" in masked.text
        assert streamed_text(masked.text) == "Sure, I will write to [REDACTED_EMAIL_1]."
    else:
        assert "output/default=flag" in checks
        assert "output/default=redact" in masked.headers["x-bastion-checks"]
    assert masked.headers["x-bastion-checks"].startswith("input/default=pass")
    assert "redact" not in unmaskable.headers["x-bastion-checks"]


def test_escaped_values_in_tool_arguments_are_masked_both_ways(
        gw: Running, upstream: tuple[ScriptedUpstream, str]) -> None:
    """``bob\\u0040example.com`` inside JSON arguments is an address to any client that
    decodes them; the detectors read the raw text and missed it, both in a request's tool
    call and in the model's."""
    escaped = '{"to": "bob\\u0040example.com", "card": "4111\\u00201111\\u00201111\\u00201111"}'
    assert json.loads(escaped) == {"to": "bob@example.com", "card": CARD}
    upstream[0].script("send it", Turn(content="", tool_calls=(("send", escaped),)))
    with gw.client(gw.key("alice")) as client:
        asked = client.post("/chat/completions", json={"model": "m", "messages": [
            {"role": "user", "content": "send it"},
            {"role": "assistant", "content": None, "tool_calls": [
                {"id": "call_0", "type": "function",
                 "function": {"name": "send", "arguments": escaped}}]},
            {"role": "tool", "tool_call_id": "call_0", "content": "sent"}]})
    sent = without_random_ids(json.dumps(upstream[0].requests[-1]))
    assert "example" not in sent
    assert "1111" not in sent
    assert json.loads(upstream[0].requests[-1]["messages"][1]["tool_calls"][0]["function"][
        "arguments"]) == {"to": "[EMAIL_1]", "card": "[CARD_1]"}
    assert asked.status_code == 200, asked.text
    answered = json.loads(asked.json()["choices"][0]["message"]["tool_calls"][0]["function"][
        "arguments"])
    # values the model wrote are masked for good (the caller's own would come back)
    assert answered == {"to": "[REDACTED_EMAIL_1]", "card": "[REDACTED_CARD_1]"}


def test_escaped_values_in_streamed_tool_arguments_are_masked(
        gw: Running, upstream: tuple[ScriptedUpstream, str]) -> None:
    """The same escaped values as above, in a stream whose chunks cut the escapes apart."""
    escaped = '{"to": "bob\\u0040example.com", "card": "4111\\u00201111\\u00201111\\u00201111"}'
    upstream[0].script("send it", Turn(content="", tool_calls=(("send", escaped),)))
    with gw.client(gw.key("alice")) as client:
        response = client.post("/chat/completions", json=chat("send it", stream=True))
    assert response.status_code == 200, response.text
    frames = [json.loads(line[6:]) for line in response.text.splitlines()
              if line.startswith("data: {")]
    arguments = "".join(call["function"].get("arguments") or ""
                        for f in frames for c in f.get("choices", [])
                        for call in c.get("delta", {}).get("tool_calls") or [])
    for secret in ("example", "bob", "1111"):
        assert secret not in without_random_ids(response.text)
    # still JSON, each value masked whole, as in the answer that is not streamed
    assert json.loads(arguments) == {"to": "[REDACTED_EMAIL_1]", "card": "[REDACTED_CARD_1]"}


def test_values_in_identifier_fields_are_masked_and_keys_holding_them_refused(
        gw: Running, upstream: tuple[ScriptedUpstream, str]) -> None:
    """An id, a setting or a key was never read, so a card number or an API key written
    there reached the upstream raw; a key cannot be renamed, so such a request is refused."""
    secret = "sk-proj-" + "A1b2C3d4E5f6G7h8I9j0K1l2"
    with gw.client(gw.key("alice")) as client:
        masked = client.post("/chat/completions", json={
            "model": "m", "prompt_cache_key": "4111111111111111", "messages": [
                {"role": "user", "content": "hi"},
                {"role": "assistant", "content": None, "tool_calls": [
                    {"id": secret, "type": "function",
                     "function": {"name": "f", "arguments": "{}"}}]},
                {"role": "tool", "tool_call_id": secret, "content": "ok"}]})
        sent = json.dumps(upstream[0].requests[-1]) if upstream[0].requests else ""
        refused = client.post("/chat/completions", json={
            "model": "m", "messages": [{"role": "user", "content": "hi"}],
            "metadata": {"4111111111111111": "x"}})
    assert masked.status_code == 200, masked.text
    assert secret not in sent
    assert "4111111111111111" not in sent
    forwarded = upstream[0].requests[0]["messages"]
    assert forwarded[1]["tool_calls"][0]["id"] == forwarded[2]["tool_call_id"]  # still paired
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"]["code"] == "unmaskable_field"
    assert len(upstream[0].requests) == 1


def test_masking_json_keeps_repeated_keys_and_decodes_escapes_beside_plain_values() -> None:
    """json.loads keeps a repeated key's last value, so the first was never masked; an escaped
    address beside a plain one, or in two documents run together, was not masked either."""
    from bastion.gateway._jsontext import mask_document

    vault = Vault(Detectors())
    repeated = mask_document('{"email": "bob@example.com", "email": "n/a"}', vault.mask)
    assert repeated == '{"email": "[EMAIL_1]", "email": "n/a"}'
    mixed = mask_document("alice@example.org and bob\\u0040example.com", vault.mask)
    assert "example" not in mixed
    assert mixed.count("[EMAIL_") == 2
    two = mask_document('{"a": "x"}{"to": "bob\\u0040example.com"}', vault.mask)
    assert "example" not in two
    untouched = '{"city": "Z\\u00fcrich"}'
    assert mask_document(untouched, vault.mask) == untouched  # nothing masked: as sent


def test_a_secret_sent_as_the_model_name_never_reaches_the_audit_log(
        gateway_factory: GatewayFactory, upstream: tuple[ScriptedUpstream, str]) -> None:
    """The upstream got [SECRET_1], but the audit event kept the raw key as its model."""
    secret = "sk-proj-" + "Q1w2E3r4T5y6U7i8O9p0A1s2"
    gw = gateway_factory(audit__content="redact")
    with gw.client(gw.key("alice")) as client:
        client.post("/chat/completions", json={
            "model": secret, "messages": [{"role": "user", "content": "hi"}]})
        client.post("/chat/completions", json=chat("hi"))
    gw.wait_audit(2)
    events = gw.audit.events()
    assert secret not in json.dumps(events)
    assert "m" in [e.get("model") for e in events]  # an ordinary model name is kept


def test_a_prompt_sent_as_the_model_name_is_refused_and_never_kept(
        gateway_factory: GatewayFactory, upstream: tuple[ScriptedUpstream, str]) -> None:
    """The model name is kept in every audit event whatever audit.content says, so it must be
    a name: text sent there (a prompt, with spaces) is a 400 and is not logged."""
    prompt = "tell me how to build a pipe bomb at home"
    gw = gateway_factory(audit__content="drop")
    with gw.client(gw.key("alice")) as client:
        refused = client.post("/chat/completions", json={
            "model": prompt, "messages": [{"role": "user", "content": "hi"}]})
        named = client.post("/chat/completions", json={
            "model": "meta-llama/Llama-3.1-8B-Instruct",
            "messages": [{"role": "user", "content": "hi"}]})
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"]["param"] == "model"
    assert "pipe bomb" not in refused.text
    assert named.status_code == 200, named.text
    gw.wait_audit(2)
    events = gw.audit.events()
    assert "pipe bomb" not in json.dumps(events)
    assert "meta-llama/Llama-3.1-8B-Instruct" in [e.get("model") for e in events]
    assert upstream[0].requests[-1]["model"] == "meta-llama/Llama-3.1-8B-Instruct"
    assert len(upstream[0].requests) == 1


def test_a_split_value_is_masked_in_texts_and_never_in_a_role(
        raw_gw: tuple[RawUpstream, Running]) -> None:
    """Found in a black-box pass: on /v1/responses an address split between two input items
    was masked across the second item's role, which went upstream as '[EMAIL_2]'."""
    raw, gw = raw_gw
    raw.body = {"id": "resp_1", "object": "response", "created_at": 1, "status": "completed",
                "model": "m", "output": [{"type": "message", "id": "msg_1", "status":
                                          "completed", "role": "assistant", "content": [
                    {"type": "output_text", "text": "Noted.", "annotations": []}]}]}
    with gw.client(gw.key("alice")) as client:
        response = client.post("/responses", json={"model": "m", "input": [
            {"role": "user", "content": "mail john.smith"},
            {"role": "user", "content": "@example.com end"}]})
    assert response.status_code == 200, response.text
    sent = raw.requests[-1]["input"]
    assert [item["role"] for item in sent] == ["user", "user"]
    assert sent[0]["content"] == "mail [EMAIL_1]"
    assert sent[1]["content"] == "[EMAIL_2] end"


@pytest.mark.parametrize("card", ["5555.5555.5555.4444", "5555 5555 5555 4444"])
def test_logit_bias_token_ids_are_not_a_card_number(
        gw: Running, upstream: tuple[ScriptedUpstream, str], card: str) -> None:
    """Issue 8: a black-box pass had logit_bias refused as a card number. Its token ids were
    read as one text, the object's keys joined by spaces ('5525 63944 32816 98482' passes
    Luhn), and a key cannot be masked, so the request got a 400. The ids are numbers, not
    text; a card in the message beside them is still masked."""
    bias = {"5525": 5, "63944": -5, "32816": 2, "98482": 1}
    assert [e.kind for e in Detectors().find(" ".join(bias))] == ["CARD"]  # the old reading
    with gw.client(gw.key("alice")) as client:
        response = client.post("/chat/completions", json={
            **chat(f"charge my card {card} now"), "logit_bias": bias})
    assert response.status_code == 200, response.text
    sent = upstream[0].requests[-1]
    assert sent["logit_bias"] == bias
    assert sent["messages"][0]["content"] == "charge my card [CARD_1] now"


@pytest.mark.parametrize("bias", [{"hello": 5}, {"50256": "-100"}, {"50256": True}, [1, 2]],
                         ids=["word-key", "string-value", "bool-value", "list"])
def test_logit_bias_holding_anything_but_token_ids_and_numbers_is_refused(
        gw: Running, upstream: tuple[ScriptedUpstream, str], bias: object) -> None:
    """logit_bias is no longer read as text, so it may hold nothing the classifier would
    have to read: token ids (digits) mapped to numbers."""
    with gw.client(gw.key("alice")) as client:
        response = client.post("/chat/completions", json={**chat("hi"), "logit_bias": bias})
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["param"] == "logit_bias"
    assert "token ids" in error["message"]
    assert upstream[0].requests == []


def _answer_with(message: dict[str, object], **choice: object) -> dict[str, object]:
    return {"id": "c", "object": "chat.completion", "model": "m", "choices": [
        {"index": 0, "finish_reason": "stop",
         "message": {"role": "assistant", **message}, **choice}]}


def _chunks_with(*deltas: dict[str, object], **choice: object) -> list[dict[str, object]]:
    return [{"id": "c", "object": "chat.completion.chunk", "model": "m",
             "choices": [{"index": 0, "delta": delta, **choice}]} for delta in deltas]


_CALL_WITH = {"id": "call_1", "type": "function",
              "function": {"name": "send", "arguments": "{}"}}
#: (whole answer, streamed chunks) with a card number and an address as keys of objects.
DATA_KEYS: dict[str, tuple[object, list[object]]] = {
    "message_object": (
        _answer_with({"content": "ok", "contacts": {"bob.smith@example.com": "primary",
                                                    "4111111111111111": "card"}}),
        _chunks_with({"content": "ok", "contacts": {"bob.smith@example.com": "primary",
                                                    "4111111111111111": "card"}})),
    "choice_extra": (
        _answer_with({"content": "ok"}, meta={"4111111111111111": 1,
                                              "bob.smith@example.com": 2}),
        _chunks_with({"content": "ok"}, meta={"4111111111111111": 1,
                                              "bob.smith@example.com": 2})),
    "tool_call_extra": (
        _answer_with({"content": None, "tool_calls": [
            {**_CALL_WITH, "extra": {"bob.smith@example.com": {"4111111111111111": 1}}}]}),
        _chunks_with({"tool_calls": [
            {"index": 0, **_CALL_WITH,
             "extra": {"bob.smith@example.com": {"4111111111111111": 1}}}]})),
    "json_content": (
        _answer_with({"content": '{"4111111111111111": 1, "bob.smith@example.com": 2}'}),
        _chunks_with({"content": '{"4111111111111111": 1, '},
                     {"content": '"bob.smith@example.com": 2}'})),
    "top_level": (
        {**_answer_with({"content": "ok"}), "owners": {"bob.smith@example.com": 1,
                                                      "4111111111111111": 2}},
        [{**chunk, "owners": {"bob.smith@example.com": 1, "4111111111111111": 2}}
         for chunk in _chunks_with({"content": "ok"})]),
}


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
@pytest.mark.parametrize("case", sorted(DATA_KEYS))
def test_a_card_number_or_an_address_as_an_answer_key_is_masked(
        gateway_factory: GatewayFactory, case: str, stream: bool) -> None:
    """Issue 8: an answer's keys were read only when they were not inert identifiers, and
    never masked; a card number or an address is shaped like an identifier, so one the model
    wrote as a key of an object reached the client as it was, checked 'pass'. A key that
    holds data is masked as a value is (here under the default policy, which redacts)."""
    raw = RawUpstream()
    raw.body, raw.frames = DATA_KEYS[case]
    with serve_app(raw.app()) as url:
        gw = gateway_factory(upstream__base_url=url)
        with gw.client(gw.key("alice")) as client:
            response = client.post("/chat/completions", json=chat("list them", stream=stream))
    assert response.status_code == 200, response.text
    shown = without_random_ids(response.text)
    for secret in ("4111111111111111", "bob.smith", "example.com"):
        assert secret not in shown, shown
    assert "[REDACTED_CARD_1]" in shown
    assert "[REDACTED_EMAIL_1]" in shown
    if stream:
        assert sse_frames(response.text)[-1] == "[DONE]"
    else:
        assert "output/default=redact" in response.headers["x-bastion-checks"]


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_card_number_as_a_responses_answer_key_is_masked(
        gateway_factory: GatewayFactory) -> None:
    """The same in an output item of the Responses API, streamed and not."""
    item = {"type": "message", "id": "msg_1", "status": "completed", "role": "assistant",
            "content": [{"type": "output_text", "text": "ok", "annotations": []}],
            "extra": {"4111111111111111": 1}}
    final = {"id": "resp_1", "object": "response", "created_at": 1, "status": "completed",
             "model": "m", "output": [item]}
    raw = RawUpstream(body=final, done=False, frames=[
        {"type": "response.output_item.done", "output_index": 0, "item": item},
        {"type": "response.completed", "response": final}])
    with serve_app(raw.app()) as url:
        gw = gateway_factory(upstream__base_url=url)
        with gw.client(gw.key("alice")) as client:
            for stream in (False, True):
                response = client.post("/responses", json={"model": "m", "input": "list",
                                                           "stream": stream})
                assert response.status_code == 200, response.text
                assert "4111111111111111" not in without_random_ids(response.text)
                assert "[REDACTED_CARD_1]" in response.text
                assert "response.completed" in response.text or not stream


def test_keys_that_hold_data_are_read_and_identifiers_are_not() -> None:
    from bastion.gateway._answer import NAMES, answer_texts

    answer = _answer_with({"content": "ok", "x": {"bob.smith@example.com": 1,
                                                  "4111-1111-1111-1111": 2, "user_id": 3,
                                                  "gpt-4o-2024-08-06": 4}})
    names = {t.text for t in answer_texts("chat", answer, streamed=False) if t.key[1] == NAMES}
    assert names == {"bob.smith@example.com 4111-1111-1111-1111"}


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize("where", ["chunk", "choice"])
def test_an_address_repeated_in_every_chunk_is_masked_in_every_chunk(
        gateway_factory: GatewayFactory, where: str) -> None:
    """Issue 8: metadata a server repeats in every chunk is read once, and the chunks that
    repeated it were written back without it, so an address there was masked in the first
    chunk only and left raw in every later one."""
    extra = {"provider": EMAIL}
    raw = RawUpstream(frames=[
        {"id": "c", "object": "chat.completion.chunk", "model": "m",
         **(extra if where == "chunk" else {}),
         "choices": [{"index": 0, "delta": {"content": piece},
                      **(extra if where == "choice" else {})}]}
        for piece in ("Tea is ", "brewed from ", "leaves.")])
    with serve_app(raw.app()) as url:
        gw = gateway_factory(upstream__base_url=url)
        with gw.client(gw.key("alice")) as client:
            response = client.post("/chat/completions", json=chat("tea?", stream=True))
    assert sse_frames(response.text)[-1] == "[DONE]"
    assert streamed_text(response.text) == "Tea is brewed from leaves."
    assert "bob.smith" not in response.text
    assert response.text.count("[REDACTED_EMAIL_1]") == 3


def test_masking_keys_keeps_their_order_and_refuses_two_keys_made_one() -> None:
    from bastion.gateway._keymask import mask_answer_keys

    vault = Vault(Detectors(), prefix="REDACTED_")
    answer = {"z": 1, EMAIL: {"4111111111111111": 2, "name": 3}, "a": [{"4111 1111": 4}]}
    assert mask_answer_keys(answer, vault, None) == 2
    assert list(answer) == ["z", "[REDACTED_EMAIL_1]", "a"]
    assert list(answer["[REDACTED_EMAIL_1]"]) == ["[REDACTED_CARD_1]", "name"]
    with pytest.raises(ValueError, match="one name"):
        mask_answer_keys({EMAIL: 1, "[REDACTED_EMAIL_1]": 2}, vault, None)


_SPLIT_ANSWERS: dict[str, tuple[dict[str, object], str]] = {
    "content_parts": (_answer_with({"content": [
        {"type": "text", "text": "Your card is 4111 1111"},
        {"type": "text", "text": "1111 1111, keep it safe."}]}), "4111111111111111"),
    "content_and_tool_arguments": (_answer_with({
        "content": "Paying with 4111 1111", "tool_calls": [
            {**_CALL_WITH, "function": {"name": "pay",
                                        "arguments": '{"rest": "1111 1111", "n": 1}'}}]}),
        "4111111111111111"),
    "content_and_refusal": (_answer_with({"content": "Mail bob.smith",
                                          "refusal": "@example.com today"}),
                            "bob.smith@example.com"),
}


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize("case", sorted(_SPLIT_ANSWERS))
def test_a_value_split_between_fields_of_a_whole_answer_is_masked(
        raw_gw: tuple[RawUpstream, Running], case: str) -> None:
    """Issue 8: each field of an answer was masked alone, so a card number the model began in
    one content part (or the content) and ended in the next (or a tool call's arguments)
    reached the client whole, checked 'pass'. A choice's fields are read one after another,
    as a client shows them (the request's texts already were): each piece gets a placeholder,
    and the arguments stay JSON."""
    raw, gw = raw_gw
    raw.body = _SPLIT_ANSWERS[case][0]
    with gw.client(gw.key("alice")) as client:
        response = client.post("/chat/completions", json=chat("pay"))
    assert response.status_code == 200, response.text
    assert "output/default=redact" in response.headers["x-bastion-checks"]
    message = response.json()["choices"][0]["message"]
    assert not _in_any_grouping(_SPLIT_ANSWERS[case][1], json.dumps(message)), message
    for call in message.get("tool_calls") or []:
        arguments = json.loads(call["function"]["arguments"])
        assert arguments == {"rest": "[REDACTED_CARD_2]", "n": 1}
    kind = "EMAIL" if "@" in _SPLIT_ANSWERS[case][1] else "CARD"
    assert f"[REDACTED_{kind}_2]" in json.dumps(message)


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_value_split_between_a_message_and_its_tool_call_never_reaches_upstream(
        gateway_factory: GatewayFactory, upstream: tuple[ScriptedUpstream, str]) -> None:
    """The same in a request: the JSON arguments were read as one text, so the card's second
    half inside a value was never seen beside the content's first half."""
    gw = gateway_factory()
    with gw.client(gw.key("alice")) as client:
        response = client.post("/chat/completions", json={"model": "m", "messages": [
            {"role": "user", "content": "pay it"},
            {"role": "assistant", "content": "Paying with 4111 1111", "tool_calls": [
                {**_CALL_WITH, "function": {"name": "pay",
                                            "arguments": '{"rest": "1111 1111"}'}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": "done"}]})
    assert response.status_code == 200, response.text
    sent = upstream[0].requests[-1]["messages"][1]
    assert sent["content"] == "Paying with [CARD_1]"
    assert json.loads(sent["tool_calls"][0]["function"]["arguments"]) == {"rest": "[CARD_2]"}


@pytest.mark.parametrize("backend", ["sqlite"])
def test_numbers_in_neighbouring_fields_that_make_no_value_are_left_alone(
        raw_gw: tuple[RawUpstream, Running]) -> None:
    """Reading fields one after another finds only what they spell together: an order number
    beside a quantity and an id is no card, and stays as written."""
    raw, gw = raw_gw
    raw.body = _answer_with({"content": "Order 1234", "tool_calls": [
        {**_CALL_WITH, "function": {"name": "ship",
                                    "arguments": '{"qty": "5678", "sku": "9012 3456"}'}}]})
    with gw.client(gw.key("alice")) as client:
        response = client.post("/chat/completions", json=chat("ship it"))
    assert response.status_code == 200, response.text
    assert response.json()["choices"][0]["message"] == raw.body["choices"][0]["message"]


def _call_piece(arguments: str, **call: object) -> dict[str, object]:
    return {"tool_calls": [{"index": 0, **call, "function": {"arguments": arguments}}]}


_FIRST_CALL = {"id": "call_1", "type": "function"}
_SPLIT_STREAMS: dict[str, tuple[list[dict[str, object]], str]] = {
    "content_then_tool_arguments": (_chunks_with(
        {"content": "Paying with 4111 1111"},
        _call_piece("", **_FIRST_CALL, function={"name": "pay", "arguments": ""}),
        _call_piece('{"rest": "1111 '), _call_piece('1111"}')), "4111111111111111"),
    "alternating_with_tool_arguments": (_chunks_with(
        {"content": "Paying with 4111 "}, _call_piece('{"rest": "1111 ', **_FIRST_CALL),
        {"content": "1111 "}, _call_piece('1111"}')), "4111111111111111"),
    "content_then_refusal": (_chunks_with(
        {"content": "Mail bob.smith"}, {"refusal": "@example.com today"}),
        "bob.smith@example.com"),
}


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize("case", sorted(_SPLIT_STREAMS))
def test_a_value_split_between_fields_of_a_stream_is_masked(
        raw_gw: tuple[RawUpstream, Running], case: str) -> None:
    """Issue 8: each field of a stream was masked in its own buffer, so a card number begun
    in the content and ended in a tool call's arguments (or an address begun in the content
    and ended in the refusal) left in two halves, checked 'pass'. A choice's text is read in
    the order it came, the arguments as their JSON's values: each field's part of the value
    is masked, and the arguments stay JSON."""
    raw, gw = raw_gw
    raw.frames, value = _SPLIT_STREAMS[case]
    with gw.client(gw.key("alice")) as client:
        response = client.post("/chat/completions", json=chat("pay", stream=True))
    assert response.status_code == 200, response.text
    data = sse_frames(response.text)
    assert data[-1] == "[DONE]", response.text
    chunks = [json.loads(d) for d in data[:-1]]
    deltas = [c["choices"][0]["delta"] for c in chunks]
    shown = "".join(d.get("content") or d.get("refusal") or "" for d in deltas)
    arguments = "".join(call["function"].get("arguments", "") for d in deltas
                        for call in d.get("tool_calls") or [])
    assert not _in_any_grouping(value, without_random_ids(response.text)), response.text
    assert "[REDACTED_" in shown
    if arguments:
        assert json.loads(arguments)["rest"].startswith("[REDACTED_CARD_")
    assert "bastion-checks output/default=redact" in response.text


def test_the_said_text_reads_json_values_in_order_and_maps_them_back() -> None:
    """Streamed arguments are read as their string values (keys, punctuation and escapes
    out; a space between two values), and each part of a value found across fields is
    placed where its characters lie in the field's buffer."""
    from bastion.gateway._said import Said

    said = Said()
    content, arguments = (0, "content"), (0, "tool.0000.arguments")
    said.add(content, 0, "Mail bob.smith")
    said.add(arguments, 0, '{"to": "\\u0040exam')
    said.add(arguments, 18, 'ple.com", "n": 3, "cc": "x"}')
    assert said.text[0] == "Mail bob.smith@example.com x"
    vault = Vault(Detectors(), prefix="REDACTED_")
    assert said.parts(content, 0, 14, vault) == [(5, 14, "[REDACTED_EMAIL_1]")]
    assert said.parts(arguments, 0, 18, vault) == [(8, 18, "[REDACTED_EMAIL_2]")]
    assert said.parts(arguments, 18, 46, vault) == [(18, 25, "")]


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_value_split_between_output_items_of_a_responses_stream_is_masked(
        raw_gw: tuple[RawUpstream, Running]) -> None:
    """The same on /v1/responses: the text's delta, then the function call's arguments."""
    final = {"id": "resp_1", "object": "response", "created_at": 1, "status": "completed",
             "model": "m", "output": []}
    raw, gw = raw_gw
    raw.done, raw.frames = False, [
        {"type": "response.output_text.delta", "item_id": "msg_1", "output_index": 0,
         "content_index": 0, "delta": "Paying with 4111 1111"},
        {"type": "response.function_call_arguments.delta", "item_id": "fc_1",
         "output_index": 1, "delta": '{"rest": "1111 1111"}'},
        {"type": "response.completed", "response": final}]
    with gw.client(gw.key("alice")) as client:
        response = client.post("/responses", json={"model": "m", "input": "pay",
                                                   "stream": True})
    assert response.status_code == 200, response.text
    events = [json.loads(d) for d in sse_frames(response.text)]
    assert [e["type"] for e in events] == ["response.output_text.delta",
                                           "response.function_call_arguments.delta",
                                           "response.completed"], response.text
    assert events[0]["delta"] == "Paying with [REDACTED_CARD_1]"
    assert json.loads(events[1]["delta"]) == {"rest": "[REDACTED_CARD_2]"}
