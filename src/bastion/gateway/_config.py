"""Gateway settings: one YAML file, typed, unknown keys rejected, env-var overrides.

Any setting can be overridden by an environment variable named after its path, with double
underscores: ``BASTION_GATEWAY__UPSTREAM__BASE_URL=http://127.0.0.1:8000/v1`` or
``BASTION_GATEWAY__ROUTES__CHAT__FAIL_OPEN_OUTPUT=true``. Values are read as YAML scalars, so
numbers and booleans keep their types. Secrets never go in the file: the file names the
environment variables that hold them (``upstream.api_key_env``, ``identity_secret_env``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bastion.accounts import AbuseSettings, Role
from bastion.errors import ConfigError
from bastion.policy import Severity

ENV_PREFIX = "BASTION_GATEWAY__"

RouteName = Literal["chat", "completions", "embeddings", "moderations", "responses"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class UpstreamConfig(_Strict):
    """The OpenAI-compatible server the gateway fronts."""

    base_url: str = Field(default="http://127.0.0.1:8000/v1", description="Ends in /v1.")
    api_key_env: str | None = Field(default=None, description="Env var holding the upstream key.")
    connect_timeout_s: float = Field(default=5.0, gt=0)
    read_timeout_s: float = Field(default=60.0, gt=0,
                                  description="Longest silence between bytes.")
    max_connections: int = Field(default=200, ge=1)
    keepalive_expiry_s: float = Field(
        default=2.0, gt=0, description="Idle upstream connections are dropped after this, "
        "well before the upstream's own keep-alive timeout (uvicorn and vLLM: 5 s), so a "
        "request never goes out on a connection the upstream is closing.")


class ClassifierConfig(_Strict):
    """Which classifier tier checks content, and how long it may take."""

    tier: str = "default"
    options: dict[str, Any] = Field(default_factory=dict)
    timeout_s: float = Field(default=2.0, gt=0)
    concurrency: int = Field(default=2, ge=1, description="Classifier batches running at once; "
                             "checks that arrive meanwhile share the next batch.")
    max_batch: int = Field(default=256, ge=1, description="Most texts in one batch.")
    max_input_chars: int = Field(
        default=400_000, ge=1, description="Most characters of text one request may ask to "
        "have checked (a 413 above it). Checks share the classifier: a few requests of "
        "megabytes each kept it busy past every other account's timeout; at the default "
        "tier's pace on two cores about this much is read within timeout_s.")
    max_input_texts: int = Field(
        default=4096, ge=1, description="Most texts (messages, content parts, tool calls, "
        "stop strings...) one request may ask to have checked (a 413 above it). Each text is "
        "read, and masked with its neighbours, on its own: 100,000 two-character texts (600 "
        "KB) took 80 s of CPU, where 400,000 characters in one text take under one.")


class RouteConfig(_Strict):
    """Per-route policies and failure handling. Checks cannot be switched off.

    ``fail_open_*`` lets a request through when the classifier fails on that direction; every
    such pass is logged at error level and counted in ``bastion_gateway_fail_opens``.
    """

    input_policy: str | None = None
    output_policy: str | None = None
    fail_open_input: bool = False
    fail_open_output: bool = False


_DEFAULT_ROUTE = RouteConfig()


class HoldConfig(_Strict):
    """How much of a streamed answer a policy holds back before its final check.

    ``whole_answer`` holds everything until the complete answer has passed (the stream then
    behaves like a non-streamed request). Otherwise the answer is released sentence by
    sentence, and once a window scores a category of severity ``whole_answer_at`` or above at
    ``suspicion`` times its threshold or more, the rest of the answer is held whole.
    """

    whole_answer: bool = False
    whole_answer_at: Severity | None = "critical"
    suspicion: float = Field(default=0.5, gt=0, le=1)


class StreamConfig(_Strict):
    """The hold-back of the stream guard (characters of generated text).

    Each check sees the new text with ``context_chars`` of what came before; every
    ``accumulated_every_chars`` it also sees the answer so far (its last
    ``accumulated_chars``), so a harmful whole is caught even when no single window is.
    Released text ends at a sentence boundary when one lies within ``max_sentence_chars``.
    """

    window_chars: int = Field(default=48, ge=1, description="New text that triggers a check.")
    tail_chars: int = Field(default=32, ge=0, description="Checked text still held for context.")
    context_chars: int = Field(default=256, ge=0, description="Released text re-checked with new.")
    accumulated_chars: int = Field(default=4000, ge=0,
                                   description="How much of the answer so far is re-checked.")
    accumulated_every_chars: int = Field(
        default=384, ge=1, description="New text between two checks of the answer so far "
        "(each costs a check of up to accumulated_chars).")
    sentences: bool = Field(default=True, description="Release only whole sentences.")
    max_sentence_chars: int = Field(default=400, ge=1,
                                    description="Longest run held waiting for a sentence end.")
    max_hold_s: float = Field(default=1.0, gt=0,
                              description="Check early when the upstream stalls.")
    hold: HoldConfig = HoldConfig()
    policies: dict[str, HoldConfig] = Field(default_factory=dict,
                                            description="Per-policy hold settings, by policy id.")

    def hold_for(self, policy_id: str) -> HoldConfig:
        """The hold settings of one policy."""
        return self.policies.get(policy_id, self.hold)


class RefusalConfig(_Strict):
    """How a blocked request is answered: an error, or a completion carrying a refusal."""

    mode: Literal["error", "completion"] = "error"
    status: int = Field(default=400, ge=400, le=499)
    message: str = "This request was blocked by the content policy."
    rule_ids_for: tuple[Role, ...] = Field(
        default=("admin", "operator", "red-teamer"),
        description="Roles whose refusals name the policy's rules that matched ('VIO-4'); "
                    "others see the policy and its categories only, as /v1/moderations "
                    "shows them flags only (moderations.scores_for): a rule id tells a prober "
                    "which phrase to change.")


class RedactConfig(_Strict):
    """Masking of PII and secrets for the ``redact`` action."""

    restore: bool = Field(default=True, description="Put masked values back into the answer.")
    phone_region: str | None = "US"


class AuditConfig(_Strict):
    """What the audit log keeps of request content, and what keeps the chain honest.

    ``key_env`` names the variable holding the audit key (never stored in the database);
    ``anchor_path`` is an append-only file of checkpoints, kept where the database's writers
    cannot write. ``bastion audit verify`` checks both.
    """

    content: Literal["drop", "redact", "hash"] = "drop"
    max_pending: int = Field(default=100_000, ge=1)
    key_env: str = "BASTION_AUDIT_KEY"
    anchor_path: str | None = None
    anchor_every_s: float = Field(default=1.0, gt=0)
    linger_s: float = Field(default=0.1, ge=0, le=5, description=(
        "How long a new event waits for others to share its write: a transaction costs "
        "about 1.5 ms of CPU however few events it holds, taken from the requests in "
        "flight, and this is also the longest an event waits in memory before it is "
        "written (the queue is written out at shutdown)."))


class MonitorConfig(_Strict):
    """Live monitoring: events and rollups in the store, detectors, incidents, webhook.

    Prompt samples for alert evidence (and prompt clustering) are kept only when
    ``audit.content`` is ``redact``. ``detectors`` overrides a detector's settings by name;
    ``name: null`` switches one off. The webhook secret is read from ``webhook_secret_env``.
    """

    enabled: bool = True
    detect: bool = Field(default=True, description="Run the detectors in this worker; with "
                         "several workers set false and run one 'bastion monitor watch'.")
    webhook_url: str | None = None
    webhook_secret_env: str = "BASTION_WEBHOOK_SECRET"  # noqa: S105 - a variable name, not a secret
    detectors: dict[str, dict[str, Any] | None] = Field(default_factory=dict)
    max_pending: int = Field(default=100_000, ge=1)
    linger_s: float = Field(default=0.1, ge=0, le=5, description=(
        "How long a new event waits for others to share its write (as audit.linger_s)."))


class RequestConfig(_Strict):
    """What request bodies may hold beyond the OpenAI fields the gateway knows.

    A field not known and not named here is refused with a 400 that names it. A field named
    here (``documents``, ``chat_template``, or ``message.<key>`` for a message key) is let
    through, and every string and free-text key inside it is checked like the prompt.
    ``tools.<type>`` lets a tool type through that would otherwise be refused because its
    calls act or read where the gateway never sees (a hosted tool: ``mcp``, ``web_search``,
    ``file_search``, ``code_interpreter``, ``local_shell``, ``shell``, ``computer_use_preview``,
    ``image_generation``, ...; only ``function`` and ``custom`` tools are text the gateway
    reads whole); ``conversation`` and ``input.item_reference`` let through Responses state
    stored upstream, which was written through routes the gateway does not proxy, and
    ``input.encrypted_content`` a reasoning item's encrypted reasoning, which only the
    upstream can read.

    ``trusted_texts`` exempts texts the operator wrote (its system prompts) from the input
    check: read alone, a sentence of a system prompt can look harmful to the classifier, and
    every request carries it. Only the exact text is trusted (its digest, after surrounding
    whitespace is stripped): a client that changes one character gets the full check.
    """

    allow_fields: tuple[str, ...] = ()
    max_answers: int = Field(default=128, ge=1, description=(
        "Most answers one request may ask for ('n', and 'best_of' of text completions): "
        "OpenAI's own limit by default. A request over it gets a 400 naming the field; "
        "without it, n=1000000000 went on to the upstream whenever a key had no token "
        "budget."))
    trusted_texts: tuple[str, ...] = Field(default=(), description=(
        "SHA-256 digests (hex) of exact texts the operator wrote, such as a system prompt, "
        "that are neither classified nor masked wherever they appear in a request; "
        "'bastion gateway trust FILE' prints a file's digest."))

    @field_validator("trusted_texts")
    @classmethod
    def _digests(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for item in value:
            if len(item) != 64 or item.strip("0123456789abcdef"):
                raise ValueError(f"{item[:80]!r} is not a SHA-256 digest (64 lower-case hex "
                                 "characters); list digests, never the texts themselves: "
                                 "'bastion gateway trust FILE' prints one")
        return value


class ModerationsConfig(_Strict):
    """``/v1/moderations`` must not be a free oracle for probing the policy.

    With ``strikes`` its violations count toward the account's abuse level as a blocked
    prompt would; roles outside ``scores_for`` see 0/1 scores and no rule ids.
    """

    strikes: bool = True
    scores_for: tuple[Role, ...] = ("admin", "operator", "red-teamer")


class LimitsConfig(_Strict):
    """Default rate limits per key and per account (a key's or account's own setting wins),
    and failed key checks per client address.

    An account's limits are shared by all its keys, so more keys do not mean more budget.
    """

    requests_per_minute: int | None = Field(default=None, ge=1)
    tokens_per_minute: int | None = Field(default=None, ge=1)
    account_requests_per_minute: int | None = Field(default=None, ge=1)
    account_tokens_per_minute: int | None = Field(default=None, ge=1)
    account_concurrent_requests: int | None = Field(
        default=64, ge=1, description="Requests one account may have in progress at once on "
        "a worker (a 429 past it; streams count until they end). Every account shares the "
        "upstream's connections (upstream.max_connections): 210 slow requests of one account "
        "held all 200, and another account's request waited 32 s. null: no limit.")
    failed_auth_per_minute: int | None = Field(
        default=30, ge=1, description="Requests with an unknown, revoked or expired key one "
        "client address (an IPv6 /64) may make in a minute; past it, its requests get a 429 "
        "with Retry-After and no lookup, except with a key this worker has found valid "
        "before, so an attacker cannot lock out a real caller at their address. Behind a "
        "proxy, name it ('bastion gateway run --proxy'), or every caller is its address. "
        "A counter store that fails (Redis down) is logged and keys are looked up. null: no "
        "limit.")


class GatewayConfig(_Strict):
    """Everything ``bastion gateway`` needs."""

    upstream: UpstreamConfig = UpstreamConfig()
    classifier: ClassifierConfig = ClassifierConfig()
    input_policy: str = "default"
    output_policy: str = "default"
    routes: dict[RouteName, RouteConfig] = Field(default_factory=dict)
    stream: StreamConfig = StreamConfig()
    refusal: RefusalConfig = RefusalConfig()
    redact: RedactConfig = RedactConfig()
    audit: AuditConfig = AuditConfig()
    monitor: MonitorConfig = MonitorConfig()
    limits: LimitsConfig = LimitsConfig()
    request: RequestConfig = RequestConfig()
    moderations: ModerationsConfig = ModerationsConfig()
    abuse: AbuseSettings = AbuseSettings()
    database_url: str | None = None
    redis_url: str | None = None
    identity_secret_env: str = "BASTION_IDENTITY_SECRET"  # noqa: S105 - a variable name, not a secret
    identity_fields: tuple[Literal["user", "safety_identifier"], ...] = (
        "user", "safety_identifier")
    max_body_bytes: int = Field(default=4_000_000, ge=1024)
    body_timeout_s: float = Field(
        default=30.0, gt=0, description="Longest a request body may take to arrive, from the "
        "first read of it (a 408 that closes the connection after it): a client sending its "
        "body a byte at a time held its request, and the connection, for as long as it "
        "liked. 4 MB (max_body_bytes) in 30 s is about 1 Mbit/s.")
    auth_cache_s: float = Field(default=1.0, ge=0, description="How long a key lookup is reused.")
    policy_reload_s: float = Field(
        default=2.0, ge=0, description="How often the policy store is read for newly published "
        "versions (one small query); 0 reads it before every request.")
    keep_alive_s: int = Field(default=65, ge=1, description="How long the gateway keeps an idle "
                              "client connection: longer than client pools keep theirs (httpx "
                              "5 s, aiohttp 15 s), so a client never reuses one being closed.")
    backlog: int = Field(default=2048, ge=1, description="Pending connections the socket holds.")
    max_header_bytes: int = Field(default=32_768, ge=1024,
                                  description="A request head (request line and headers) larger "
                                  "than this gets a 431, or a 414 when its URL alone is.")
    header_timeout_s: float = Field(
        default=10.0, gt=0, description="Longest a request's line and headers may take to "
        "arrive, from the connection's start (or a later request's first byte): the "
        "connection is then answered 408 and closed ('bastion gateway run' only: it is the "
        "server's protocol). Connections that sent nothing, or half a head, were kept for good.")
    metrics_public: bool = Field(default=False,
                                 description="True: /metrics needs no key (default: operators).")

    def route(self, name: str) -> RouteConfig:
        """The settings of a route, defaults filled in (asked about ten times a request: a
        route without settings gets the one shared default, not a new one each time)."""
        for route, settings in self.routes.items():
            if route == name:
                return settings
        return _DEFAULT_ROUTE

    def policy_for(self, name: str, direction: Literal["input", "output"]) -> str:
        """The policy a route checks one direction with."""
        route = self.route(name)
        chosen = route.input_policy if direction == "input" else route.output_policy
        return chosen or (self.input_policy if direction == "input" else self.output_policy)


def _set_path(data: dict[str, Any], path: list[str], value: Any) -> None:
    for key in path[:-1]:
        nested = data.setdefault(key, {})
        if not isinstance(nested, dict):
            raise ConfigError(f"cannot override {'.'.join(path)!r}: {key!r} is not a section")
        data = nested
    data[path[-1]] = value


def apply_env(data: dict[str, Any], environ: Mapping[str, str]) -> dict[str, Any]:
    """``data`` with every ``BASTION_GATEWAY__A__B`` variable applied as ``a.b``."""
    out = {**data}
    for name in sorted(environ):
        if name.startswith(ENV_PREFIX):
            path = [part.lower() for part in name[len(ENV_PREFIX):].split("__") if part]
            if path:
                _set_path(out, path, yaml.safe_load(environ[name]))
    return out


def load_config(path: str | Path | None = None, *,
                environ: Mapping[str, str] | None = None) -> GatewayConfig:
    """Read the YAML file (if any), apply env overrides, and validate.

    Raises:
        ConfigError: the file cannot be read, is not a mapping, or has a bad or unknown key.
    """
    data: Any = {}
    if path is not None:
        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"gateway config {str(path)!r} cannot be read: {exc}") from exc
        if not isinstance(data, dict):
            raise ConfigError(f"gateway config {str(path)!r} must be a mapping of settings")
    data = apply_env(data, os.environ if environ is None else environ)
    try:
        return GatewayConfig.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"gateway config {str(path or '<env>')!r} is invalid: {problems}; "
                          "fix the named keys (unknown keys are rejected)") from exc
