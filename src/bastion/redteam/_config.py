"""Campaign settings: typed, rejecting unknown keys, loadable from YAML or JSON."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from bastion._urls import SECRET_NAME, secret_value, url_credentials
from bastion._urls import public_url as shown_url
from bastion.errors import ConfigError

REDACTED = "[redacted]"
# Settings that change how fast a campaign runs, or how it reaches its attacker and judge
# models, not which attempts it makes or how they are judged: a log can be resumed with other
# values, and a log made before a setting existed keeps its fingerprint.
SPEED_SETTINGS = ("concurrency", "rate", "retries", "backoff", "attacker_timeout",
                  "attacker_verify", "judge_timeout", "judge_verify")
MIN_CREDENTIAL = 6
#: The two optional models, and their settings that mean something only with the model's URL
#: (``judge_timeout`` is the judge's: without ``judge_url`` no judge is asked).
MODEL_ROLES = ("attacker", "judge")
URL_BOUND = ("model", "key_env", "timeout", "verify")

# Every built-in probe that needs no data set and costs little; ``consumption`` (LLM10) asks
# for unbounded output and is opt-in.
DEFAULT_PROBES = ("harmful", "jailbreak", "many_shot", "injection_direct", "injection_indirect",
                  "system_prompt_extraction", "pii_leak", "capability", "output_handling",
                  "misinformation")


class CampaignConfig(BaseModel):
    """Everything that decides which attempts a campaign makes and how they are scored.

    Attributes:
        target: registry name of the target; ``target_options`` are its keyword options.
        probes: probe names; ``probe_options`` maps a probe name to its options.
        converters: converter stacks, each ``a+b`` (applied left to right); ``none`` = as is.
        strategies: strategy names; each case runs once per strategy and converter stack.
        strategy_options / converter_options: options by plugin name (``{"pair":
            {"streams": 5}}``), the ones ``bastion redteam list`` shows.
        scorers: override every case's scorers (default: each probe's own choice).
        harm_tier: classifier tier of the harm scorer; ``harm_options`` are its constructor
            options (a fixed-verdict table in tests, an LLM endpoint...).
        concurrency: attempts in flight at once.
        rate: target requests per second (None: unlimited).
        retries: retries of retryable target failures (timeouts, 429, 5xx).
        backoff: base retry backoff in seconds.
        seed: makes converters, sampling and retries reproducible.
        repeats: run every attempt this many times (for sampled targets).
        limit: keep a seeded sample of at most this many attempts.
        attacker_url / attacker_model / attacker_key_env: the optional OpenAI-compatible
            attacker model (strategies and converters that write prompts).
        judge_url / judge_model / judge_key_env: the optional judge model of the ``judge``
            scorer, a separate endpoint from the attacker (a model grading its own attacks
            is biased toward them).
        attacker_timeout / judge_timeout: seconds one request to that model may take in all
            (an answer still arriving then is cut off), as the targets' option ``timeout``.
        attacker_verify / judge_verify: check that model's TLS certificate: true, the path
            of a CA bundle (PEM), or false (a warning and a line in the report), as the
            targets' option ``verify``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    target: str = "vulnerable"
    target_options: dict[str, Any] = Field(default_factory=dict)
    probes: list[str] = Field(default_factory=lambda: list(DEFAULT_PROBES))
    probe_options: dict[str, dict[str, Any]] = Field(default_factory=dict)
    converters: list[str] = Field(default_factory=lambda: ["none"])
    strategies: list[str] = Field(default_factory=lambda: ["single"])
    strategy_options: dict[str, dict[str, Any]] = Field(default_factory=dict)
    converter_options: dict[str, dict[str, Any]] = Field(default_factory=dict)
    scorers: list[str] | None = None
    harm_tier: str = "default"
    harm_options: dict[str, Any] = Field(default_factory=dict)
    concurrency: int = Field(default=8, ge=1, le=1024)
    rate: float | None = Field(default=None, gt=0)
    retries: int = Field(default=3, ge=0, le=20)
    backoff: float = Field(default=0.5, ge=0)
    seed: int = 0
    repeats: int = Field(default=1, ge=1)
    limit: int | None = Field(default=None, ge=1)
    attacker_url: str | None = None
    attacker_model: str = "attacker"
    attacker_key_env: str | None = None
    judge_url: str | None = None
    judge_model: str = "judge"
    judge_key_env: str | None = None
    attacker_timeout: float = Field(default=60.0, gt=0)
    attacker_verify: bool | str = True
    judge_timeout: float = Field(default=60.0, gt=0)
    judge_verify: bool | str = True

    @field_validator("harm_tier")
    @classmethod
    def _known_tier(cls, value: str) -> str:
        """A tier the harm scorer can load: checked before any request goes out (a typo
        was found only at the first score, after the target had been attacked)."""
        from bastion.classify import available, is_profile  # noqa: PLC0415 - entry points

        if not is_profile(value) and value not in available():
            raise ValueError(f"unknown classifier tier {value!r}; use 'default', 'fast' or "
                             f"one of {available()}")
        return value

    @model_validator(mode="after")
    def _model_settings_have_a_model(self, info: ValidationInfo) -> CampaignConfig:
        """Refuse an attacker or judge setting given without that model's URL.

        Without ``judge_url`` no judge model exists, so ``--judge-verify`` or a file's
        ``judge_timeout:`` was accepted and silently did nothing, and a user believed a judge
        was checked or bounded (issue 9). "Given" is what was set: a file's keys and the
        flags (``model_fields_set``), not the defaults; a rerun leaves out of a log's
        settings those of a model the log has no URL for (a log writes every setting). The
        validation context (see :func:`check_config`) lets the message name what was typed.
        """
        for role in MODEL_ROLES:
            given = [f"{role}_{k}" for k in URL_BOUND if f"{role}_{k}" in self.model_fields_set]
            if given and not getattr(self, f"{role}_url"):
                raise PydanticCustomError("model_without_url",
                                          _without_url(role, given[0], info.context or {}))
        return self

    def fingerprint(self) -> str:
        """A hash of the settings that decide the attempts (not speed settings).

        It hashes the public settings, credentials redacted: a fingerprint shown in every
        report must not let anyone test guesses of a token against it, and a rotated token
        does not make a campaign a different one (its log still resumes).
        """
        keep = {k: v for k, v in self.public_dump().items() if k not in SPEED_SETTINGS}
        text = json.dumps(keep, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def public_dump(self) -> dict[str, Any]:
        """The settings as JSON, safe for logs and reports: credentials in target headers, in
        the harm classifier's options (``api_key``) and in the target's, attacker's, judge's
        and classifier's URLs replaced by ``[redacted]``."""
        data = self.model_dump(mode="json")
        data["target_options"] = public_options(data["target_options"])
        data["harm_options"] = public_options(data["harm_options"], secret_keys=True)
        for key in ("attacker_url", "judge_url"):
            if data[key]:
                data[key] = public_url(data[key])
        return data

    def stacks(self) -> list[tuple[str, ...]]:
        """The converter stacks as tuples (``()`` for ``none``)."""
        return [tuple(p for p in spec.split("+") if p and p != "none")
                for spec in self.converters]


def flag(setting: str) -> str:
    """The command-line flag of a campaign setting: ``judge_verify`` is ``--judge-verify``."""
    return "--" + setting.replace("_", "-")


def _without_url(role: str, setting: str, context: Mapping[str, Any]) -> str:
    """What was given, why it does nothing without ``<role>_url``, and how to fix it, in the
    user's words: a flag (in ``context["flags"]``) or a setting of the campaign file
    (``context["file"]``) or of a rerun's log (``context["log"]``); a command line
    (``"flags"`` in the context) can pass the URL."""
    url, file, log = f"{role}_url", context.get("file"), context.get("log")
    typed = "flags" in context
    if setting in context.get("flags", ()):
        what, drop = f"{flag(setting)} was given", f"drop {flag(setting)}"
        source = f"campaign file {file!r}" if file else f"log {log!r}" if log else ""
    elif file:
        what, drop = f"campaign file {file!r} sets {setting!r}", f"remove {setting!r} from it"
        source = "it"
    else:
        what, drop, source = f"{setting!r} is set", f"remove {setting!r}", ""
    nowhere = ([flag(url)] if typed else []) + ([f"{url!r} in {source}"] if source else [])
    fixes = ([f"pass {flag(url)} URL"] if typed else []) + (
        [f"set {url!r} in the campaign file"] if file else [] if typed else [f"set {url!r}"])
    return (f"{what}, but no {role} model is configured (no "
            f"{', no '.join(nowhere or [repr(url)])}), so it would have no effect: the "
            f"{role}'s settings apply only to requests to the {role} model, and without its "
            f"URL none is made; {' or '.join(fixes)}, or {drop}")


def load_config(path: Path, *, flags: Collection[str] = (), **overrides: Any) -> CampaignConfig:
    """Read a YAML/JSON campaign file, apply non-None overrides (``flags`` names those typed
    as flags, for messages), validate."""
    try:
        data = yaml.safe_load(path.read_text("utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read campaign file {str(path)!r}: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"campaign file {str(path)!r} must hold a mapping of settings")
    data.update({k: v for k, v in overrides.items() if v is not None})
    return check_config(data, {"flags": flags, "file": str(path)})


def make_config(**settings: Any) -> CampaignConfig:
    """Validate settings into a config; errors name the bad key."""
    return check_config(settings)


def check_config(settings: Mapping[str, Any],
                 context: Mapping[str, Any] | None = None) -> CampaignConfig:
    """Validate settings into a config; errors name the bad key.

    Args:
        settings: the campaign settings.
        context: where they came from, for messages in the user's words: ``flags``, the
            settings typed as command-line flags (present for a command line); ``file``, the
            campaign file of the rest; ``log``, the log whose campaign a rerun replays.
    """
    try:
        return CampaignConfig.model_validate(settings, context=context)
    except ValidationError as exc:
        problems = "; ".join(  # a check of several settings has no 'loc' to name
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" if e["loc"] else e["msg"]
            for e in exc.errors())
        raise ConfigError(f"bad campaign settings: {problems}") from exc


def _secret(name: str, value: object) -> bool:
    """True for a secret-named value that is no template: '${NAME}' names a variable and
    '{session_id}' is the HTTP target's slot (a rerun asked for a redacted one again)."""
    return secret_value(name, str(value))


def public_url(url: str) -> str:
    """``url`` with its credentials redacted: the password, a token written as the user
    (``https://sk-...@host``), and secret query values (``api_key=...``); the user name before
    a password and the other query values are kept, for a reader to tell endpoints apart."""
    return shown_url(url, mask=REDACTED)


def check_userinfo(url: str, option: str, auth: str | None) -> None:
    """Refuse ``url`` when it holds ``user:password@`` and ``auth`` names another credential.

    httpx sends a URL's user and password as ``Authorization: Basic ...`` in place of any
    Authorization header, so a configured token would silently never be sent. The message
    shows the URL with its password redacted.

    Args:
        url: the endpoint as configured.
        option: how the user set it (``target option 'url'``).
        auth: the other credential in words, or None when there is none.
    """
    parts = urlsplit(url)
    if auth is None or (parts.username is None and parts.password is None):
        return
    raise ConfigError(f"{option} {public_url(url)!r} holds a user name or password, which would "
                      f"be sent as 'Authorization: Basic ...' in place of {auth}; keep one: take "
                      f"'user:password@' out of the URL, or drop {auth}")


def public_options(options: dict[str, Any], *, secret_keys: bool = False) -> dict[str, Any]:
    """Options with credentials redacted: headers by name, endpoint URLs, and with
    ``secret_keys`` the options themselves by name (a classifier's ``api_key``)."""
    out: dict[str, Any] = {
        k: REDACTED if secret_keys and not str(k).endswith("_env") and _secret(str(k), v)
        else v for k, v in options.items()}  # an ``api_key_env`` only names a variable
    headers = out.get("headers")
    if isinstance(headers, dict):
        out["headers"] = {k: REDACTED if _secret(str(k), v) else v for k, v in headers.items()}
    extra = out.get("extra_body")  # '{"api_key": "..."}' for a server that reads it there
    if isinstance(extra, dict):
        out["extra_body"] = {k: REDACTED if _secret(str(k), v) else v for k, v in extra.items()}
    for key in ("url", "base_url"):
        if isinstance(out.get(key), str):
            out[key] = public_url(out[key])
    return out


def credentials(headers: Mapping[str, str], url: str = "") -> tuple[str, ...]:
    """The credential values a target sends: headers with a secret name (``Authorization``,
    ``X-Api-Key``), each whole and its token after a scheme word (``Bearer sk-...``), and a
    URL's password (or a token written as its user) and secret query values. A server may echo
    one back (an error page that shows the request, a model repeating its headers);
    :func:`scrub` takes them out of what a campaign records."""
    values = [v for k, v in headers.items() if SECRET_NAME.search(k)]
    values += [v.split(None, 1)[1] for v in values if len(v.split(None, 1)) == 2]
    values += url_credentials(url)
    # A value this short is a word, not a key: blanking it would garble answers.
    return tuple(sorted({v for v in values if len(v) >= MIN_CREDENTIAL}, key=len, reverse=True))


def scrub(text: str, values: Sequence[str]) -> str:
    """``text`` with every credential in ``values`` replaced by ``[redacted]``."""
    for value in values:
        text = text.replace(value, REDACTED)
    return text


def redacted_options(options: dict[str, Any]) -> list[str]:
    """Options (``headers.Authorization``, ``url``, ``api_key``) a log holds only as
    ``[redacted]``."""
    headers = options.get("headers")
    names = [f"headers.{k}" for k, v in (headers if isinstance(headers, dict) else {}).items()
             if v == REDACTED]
    return names + [k for k, v in options.items() if k != "headers" and REDACTED in str(v)]
