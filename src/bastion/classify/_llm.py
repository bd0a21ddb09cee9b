"""The ``llm`` tier: a policy-reasoning model behind any OpenAI-compatible chat server.

Works with gpt-oss-safeguard served by vLLM, Ollama or LM Studio, and with hosted models. The
policy body goes verbatim as the system message, followed by an output-format instruction that
asks for one JSON object; the content to classify is the user message. This module holds the
transport side (settings, requests, retries, concurrency, windows); the prompt, the parsing of
answers and the mapping of an answer to scores live in :mod:`bastion.classify._llm_answer`.

Failure is never safe: a transport error, a timeout, an HTTP error, or an empty, truncated or
unparsable answer (or one with an unknown category, a missing key, or a confidence out of
range) yields a verdict of kind ``error``. Long texts are split into windows; the worst window
decides and is cited in ``meta["window"]``.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from email.utils import parsedate_to_datetime
from typing import Any, Literal

import anyio
import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)

from bastion._urls import public_url
from bastion.classify._base import Classifier
from bastion.classify._llm_answer import (
    SAFE_SCALE,
    _blank,
    _collect,
    _extract_json,
    _Job,
    _message,
    _read_answer,
    _to_verdict,
    system_prompt,
)
from bastion.classify._verdict import Verdict, error_verdict
from bastion.classify._window import windows
from bastion.errors import BackendError, BackendTimeout, ConfigError, RuntimeFailure
from bastion.policy import Policy

__all__ = ["SAFE_SCALE", "LLMClassifier", "LLMSettings", "system_prompt"]

MAX_REASONING = 4000
Effort = Literal["low", "medium", "high"]

_ENV = {"base_url": "BASTION_LLM_BASE_URL", "model": "BASTION_LLM_MODEL",
        "api_key": "BASTION_LLM_API_KEY"}
_HINTS = {401: "check api_key or BASTION_LLM_API_KEY", 403: "check api_key or BASTION_LLM_API_KEY",
          404: "check that base_url ends in /v1 and that the model name exists on the server"}


class LLMSettings(BaseModel):
    """Options of the ``llm`` tier; unknown keys are rejected.

    Attributes:
        base_url: the server's OpenAI-compatible root, e.g. ``http://localhost:8000/v1``.
        model: the model name the server knows, e.g. ``openai/gpt-oss-safeguard-20b``.
        api_key: bearer token, if the server needs one; never logged or shown.
        reasoning_effort: sent as ``reasoning_effort``; ``None`` sends nothing.
        reasoning_prompt: also write ``Reasoning: <effort>`` atop the system message (the
            gpt-oss convention); ``None`` does so when the model name contains ``gpt-oss``.
        json_mode: send ``response_format={"type": "json_object"}`` (some servers reject it).
        keep_reasoning: keep a truncated copy of the model's reasoning in ``meta["reasoning"]``.
        max_tokens: answer budget; a truncated answer is an error verdict.
        timeout: seconds per HTTP attempt (connect, read and write each).
        max_retries: retries after the first attempt, on HTTP 429/5xx and connection errors.
        backoff: base seconds of the exponential backoff (with full jitter).
        max_backoff: upper bound of one wait, ``Retry-After`` included.
        concurrency: most requests in flight for one batch.
        window_chars: longer texts are split into windows of this many characters ...
        window_overlap: ... sharing this many characters with the previous window.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    base_url: str
    model: str = Field(min_length=1)
    api_key: SecretStr | None = None
    reasoning_effort: Effort | None = "low"
    reasoning_prompt: bool | None = None
    json_mode: bool = False
    keep_reasoning: bool = False
    temperature: float = Field(0.0, ge=0.0, le=2.0)
    max_tokens: int | None = Field(None, gt=0)
    timeout: float = Field(60.0, gt=0.0)
    max_retries: int = Field(2, ge=0, le=10)
    backoff: float = Field(0.5, ge=0.0)
    max_backoff: float = Field(30.0, ge=0.0)
    concurrency: int = Field(8, ge=1, le=256)
    window_chars: int = Field(12_000, ge=100)
    window_overlap: int = Field(1_000, ge=0)

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        """Fields as ``repr`` and ``str`` show them: the base URL without its credentials
        or secret query values (:func:`_safe_url`), as the key is never shown."""
        for name, value in super().__repr_args__():
            yield name, _safe_url(value) if name == "base_url" else value

    @model_validator(mode="after")
    def _check(self) -> LLMSettings:
        if not self.base_url.startswith(("http://", "https://")):
            raise ValueError("base_url must start with http:// or https://")
        if self.window_overlap >= self.window_chars:
            raise ValueError("window_overlap must be smaller than window_chars")
        return self

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> LLMSettings:
        """Validate constructor options, filling endpoint, model and key from the environment.

        Raises:
            ConfigError: a required setting is missing, an option is unknown or invalid.
        """
        values = dict(options)
        for key, env in _ENV.items():
            if values.get(key) is None and os.environ.get(env):
                values[key] = os.environ[env]
        for key in ("base_url", "model"):
            if not values.get(key):
                raise ConfigError(f"tier 'llm' has no {key}: pass {key}=... or set {_ENV[key]} "
                                  f"(e.g. {_ENV['base_url']}=http://localhost:8000/v1)")
        try:
            return cls.model_validate(values)
        except ValidationError as exc:  # never echo input values: one of them is the api key
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'options'}: {e['msg']}"
                                 for e in exc.errors())
            raise ConfigError(f"bad options for tier 'llm': {problems}; valid options are "
                              f"{sorted(cls.model_fields)}") from exc


class _RetryableError(BackendError):
    """A failure worth another attempt (HTTP 429/5xx, connection trouble)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class LLMClassifier(Classifier):
    """Classifies with a chat model on an OpenAI-compatible server.

    Lifetime: holds one pooled ``httpx.Client`` for ``classify`` (created on first use,
    released by :meth:`close`); each ``aclassify`` batch opens its own ``httpx.AsyncClient``,
    because an async client is bound to one event loop and instances are shared between
    threads and loops.

    Concurrency: thread-safe. A batch runs at most ``concurrency`` requests at once (threads
    for ``classify``, tasks for ``aclassify``); the pooled sync client also caps the requests
    of all threads sharing this instance at ``concurrency``.

    Args:
        **options: see :class:`LLMSettings`; ``base_url``, ``model`` and ``api_key`` default to
            ``BASTION_LLM_BASE_URL``, ``BASTION_LLM_MODEL`` and ``BASTION_LLM_API_KEY``.

    Raises:
        ConfigError: a missing endpoint or model, an unknown or invalid option.
    """

    name = "llm"
    needs_network = True

    def __init__(self, **options: Any) -> None:
        self.settings = LLMSettings.from_options(options)
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()
        self._jitter = wait_random_exponential(
            multiplier=self.settings.backoff, max=self.settings.max_backoff)

    def __repr__(self) -> str:
        s = self.settings
        key = "set" if s.api_key else "none"
        return (f"LLMClassifier(base_url={_safe_url(s.base_url)!r}, model={s.model!r}, "
                f"reasoning_effort={s.reasoning_effort!r}, api_key={key})")

    def _classify(self, texts: Sequence[str], policy: Policy) -> list[Verdict]:
        jobs = self._jobs(texts)
        if len(jobs) == 1:  # the common case (one short text): no thread pool
            return _collect(texts, jobs, [self._run_sync(jobs[0], texts, policy)])
        workers = min(self.settings.concurrency, len(jobs))
        with ThreadPoolExecutor(workers, thread_name_prefix="bastion-llm") as pool:
            results = list(pool.map(lambda job: self._run_sync(job, texts, policy), jobs))
        return _collect(texts, jobs, results)

    async def aclassify(self, texts: Sequence[str], policy: Policy) -> list[Verdict]:
        """Async form of :meth:`classify`, with real async I/O."""
        if not texts:
            return []
        jobs = self._jobs(texts)
        results: list[Verdict] = [error_verdict(policy, self.name, "not run")] * len(jobs)
        limiter = anyio.CapacityLimiter(self.settings.concurrency)

        async def run(k: int, client: httpx.AsyncClient) -> None:
            results[k] = await self._run_async(jobs[k], texts, policy, client, limiter)

        async with self._async_client() as client, anyio.create_task_group() as group:
            for k in range(len(jobs)):
                group.start_soon(run, k, client)
        return _collect(texts, jobs, results)

    def close(self) -> None:
        """Close the pooled HTTP client. Safe to call twice."""
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    # -- one window of one text -----------------------------------------------------------

    def _jobs(self, texts: Sequence[str]) -> list[_Job]:
        size, overlap = self.settings.window_chars, self.settings.window_overlap
        return [_Job(i, a, b) for i, t in enumerate(texts) for a, b in windows(t, size, overlap)]

    def _run_sync(self, job: _Job, texts: Sequence[str], policy: Policy) -> Verdict:
        start = time.perf_counter()
        if not texts[job.index].strip():
            return _blank(policy)
        try:
            payload, attempts = self._post_sync(self._body(texts[job.index][job.start:job.end],
                                                           policy))
        except RuntimeFailure as exc:
            return self._failed(policy, exc, start)
        return self._judge(payload, attempts, job, texts[job.index], policy, start)

    async def _run_async(self, job: _Job, texts: Sequence[str], policy: Policy,
                         client: httpx.AsyncClient, limiter: anyio.CapacityLimiter) -> Verdict:
        start = time.perf_counter()
        if not texts[job.index].strip():
            return _blank(policy)
        body = self._body(texts[job.index][job.start:job.end], policy)
        try:
            payload, attempts = await self._post_async(client, limiter, body)
        except RuntimeFailure as exc:
            return self._failed(policy, exc, start)
        return self._judge(payload, attempts, job, texts[job.index], policy, start)

    def _judge(self, payload: dict[str, Any], attempts: int, job: _Job, text: str,
               policy: Policy, start: float) -> Verdict:
        try:
            content, reasoning = _message(payload)
            answer = _read_answer(_extract_json(content), policy)
        except RuntimeFailure as exc:
            return self._failed(policy, exc, start, retries=attempts - 1)
        meta: dict[str, Any] = {"model": self.settings.model, "retries": attempts - 1}
        if self.settings.keep_reasoning and reasoning:
            meta["reasoning"] = reasoning[:MAX_REASONING]
        if (job.start, job.end) != (0, len(text)):
            meta["window"] = [job.start, job.end]
        latency = (time.perf_counter() - start) * 1000
        return _to_verdict(answer, policy, text, job, latency, meta)

    def _failed(self, policy: Policy, exc: RuntimeFailure, start: float,
                retries: int | None = None) -> Verdict:
        verdict = error_verdict(policy, self.name, self._redact(str(exc)),
                                (time.perf_counter() - start) * 1000)
        return verdict if retries is None else replace(verdict, meta={"retries": retries})

    def _redact(self, message: str) -> str:
        key = self.settings.api_key.get_secret_value() if self.settings.api_key else ""
        return message.replace(key, "***") if key else message

    # -- HTTP -----------------------------------------------------------------------------

    def _body(self, text: str, policy: Policy) -> dict[str, Any]:
        s = self.settings
        body: dict[str, Any] = {
            "model": s.model, "temperature": s.temperature, "stream": False,
            "messages": [{"role": "system", "content": system_prompt(policy, self._effort_line)},
                         {"role": "user", "content": text}],
        }
        if s.reasoning_effort is not None:
            body["reasoning_effort"] = s.reasoning_effort
        if s.max_tokens is not None:
            body["max_tokens"] = s.max_tokens
        if s.json_mode:
            body["response_format"] = {"type": "json_object"}
        return body

    @property
    def _effort_line(self) -> str | None:
        s = self.settings
        wanted = s.reasoning_prompt
        if wanted is None:
            wanted = "gpt-oss" in s.model.lower()
        return f"Reasoning: {s.reasoning_effort}" if wanted and s.reasoning_effort else None

    @property
    def _url(self) -> str:
        return self.settings.base_url.rstrip("/") + "/chat/completions"

    def _headers(self) -> dict[str, str]:
        key = self.settings.api_key
        return {"Authorization": f"Bearer {key.get_secret_value()}"} if key else {}

    def _retrying(self) -> dict[str, Any]:
        return {"stop": stop_after_attempt(self.settings.max_retries + 1), "wait": self._wait,
                "retry": retry_if_exception_type(_RetryableError), "reraise": True}

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome is not None else None
        if isinstance(exc, _RetryableError) and exc.retry_after is not None:
            return min(exc.retry_after, self.settings.max_backoff)
        return float(self._jitter(state))

    def _sync_client(self) -> httpx.Client:
        with self._lock:
            if self._client is None:
                self._client = httpx.Client(timeout=self.settings.timeout, limits=self._limits)
            return self._client

    def _async_client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(timeout=self.settings.timeout, limits=self._limits)

    @property
    def _limits(self) -> httpx.Limits:
        n = self.settings.concurrency
        return httpx.Limits(max_connections=n, max_keepalive_connections=n)

    def _post_sync(self, body: dict[str, Any]) -> tuple[dict[str, Any], int]:
        attempts = 0
        try:
            for attempt in Retrying(**self._retrying()):
                with attempt, self._transport_errors():
                    attempts += 1
                    response = self._sync_client().post(self._url, json=body,
                                                        headers=self._headers())
                    return _payload(response), attempts
        except _RetryableError as exc:
            raise self._gave_up(exc, attempts) from exc
        raise AssertionError("unreachable: tenacity either returns or raises")

    async def _post_async(self, client: httpx.AsyncClient, limiter: anyio.CapacityLimiter,
                          body: dict[str, Any]) -> tuple[dict[str, Any], int]:
        attempts = 0
        try:
            async for attempt in AsyncRetrying(**self._retrying()):
                with attempt, self._transport_errors():
                    attempts += 1
                    async with limiter:
                        response = await client.post(self._url, json=body,
                                                     headers=self._headers())
                    return _payload(response), attempts
        except _RetryableError as exc:
            raise self._gave_up(exc, attempts) from exc
        raise AssertionError("unreachable: tenacity either returns or raises")

    def _gave_up(self, exc: _RetryableError, attempts: int) -> BackendError:
        return BackendError(f"{exc}; gave up after {attempts} attempt(s); check the server, or "
                            "raise 'max_retries'")

    @contextmanager
    def _transport_errors(self) -> Iterator[None]:
        url = _safe_url(self._url)
        try:
            yield
        except httpx.TimeoutException as exc:
            raise BackendTimeout(f"no answer from {url} within {self.settings.timeout}s "
                                 f"({type(exc).__name__}); raise 'timeout' or check the "
                                 "server's load") from exc
        except httpx.TransportError as exc:
            raise _RetryableError(f"cannot reach {url}: {type(exc).__name__}: {exc}") from exc


# -- HTTP responses -----------------------------------------------------------------------


def _payload(response: httpx.Response) -> dict[str, Any]:
    code = response.status_code
    if code == 429 or code >= 500:
        raise _RetryableError(f"server answered HTTP {code}", _retry_after(response))
    if code >= 400:
        hint = _HINTS.get(code, "check the request options (model, json_mode, max_tokens)")
        raise BackendError(f"server answered HTTP {code}: {response.text[:200]!r}; {hint}")
    try:
        payload = response.json()
    except ValueError as exc:
        raise BackendError(f"server answered HTTP {code} with a body that is not JSON; is "
                           "base_url an OpenAI-compatible /v1 endpoint?") from exc
    if not isinstance(payload, dict):
        raise BackendError("server answered JSON that is not an object")
    return payload


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _safe_url(url: str) -> str:
    """The URL as messages and ``repr`` show it: its userinfo (``user:password@``, a token
    as the user) and secret query values (``?api_key=...``) masked, by the one rule for
    credentials in URLs (:mod:`bastion._urls`). It dropped only ``user:password@`` before,
    so a key in the query string was shown whole."""
    return public_url(url, names=False)
