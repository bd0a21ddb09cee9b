"""A generic HTTP target: a request template, a JSON path to the reply, and conversation state.

Example: ``url="https://bot.example/api/chat"``, ``body='{"query": "{prompt}"}'``,
``response_path="data.answer"``. Slots in the body template:

* ``{prompt}``: the last user message;
* ``{messages}``: the whole conversation as a JSON array of ``{"role", "content"}`` objects
  (planted context included), for APIs that take the history with every request;
* ``{session_id}``: a conversation id, for APIs that keep the history themselves. Bastion
  makes one per conversation, or reads the server's from ``session_path`` in each answer;
  it may also travel in a header (``X-Session-Id: {session_id}``), the one slot a header takes;
* ``{context}``: the context a case plants (a retrieved document, a tool result), for APIs
  that take documents beside the question (``{"question": "{prompt}", "docs": "{context}"}``);
* ``{system}``: the option ``system_prompt`` (with a canary planted in it), for APIs that take
  their instructions in the request.

In a JSON body every value is JSON-escaped before it fills its slot, so hostile prompts cannot
break out of the string, and slots are filled in one pass: a prompt that contains ``{context}``
is sent as written. Header values may name environment variables as ``${NAME}``.

The URL takes the text slots too (``{prompt}``, ``{session_id}``, ``{context}``, ``{system}``),
each value percent-encoded whole, for APIs called as ``GET https://bot.example/api?q={prompt}``
or with the conversation in the path (:mod:`._url`). When the URL carries ``{prompt}`` and
``body`` is left out, no body is sent; a GET or DELETE without either is refused (it was
sent the default JSON body). A template that puts the prompt nowhere is refused.
A redirect, a stream of server-sent events or a web page where JSON was due is an error that
says what to fix, never a reply to score (:mod:`._answer`); so is an answer with no reply in
it: an empty body, or nothing (a missing path, null, empty text) at ``response_path``
(:mod:`._reply`, which says why empty text is not read as the model's answer).
A server session is kept by :mod:`._sessions`.

``timeout`` bounds a request whole (connecting, waiting and reading: a server that trickles
its answer is cut off there), and ``verify`` says how the endpoint's TLS certificate is
checked: the public roots, a CA bundle, or not at all, with a warning (:mod:`._tls`).

A template (body and URL) with neither ``{messages}`` nor ``{session_id}`` can carry only one
message: a multi-turn conversation sent to it is a configuration error, never silently cut to
its last turn. A template with neither ``{messages}`` nor ``{context}`` has no channel for
planted context: a campaign with such cases (``injection_indirect``) is refused before it
starts, unless ``context="inline"`` says to paste the context in front of the prompt (the
attack then arrives as the user's own text, not through retrieval).

Leak probes are judged by what the target was told to keep secret: ``system_prompt`` (sent in
``{system}`` or first in ``{messages}``; with neither slot, the application's own prompt,
only looked for in answers) and ``canaries`` (tokens planted in the application, such as a
customer record in its database).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import ClassVar, Literal
from urllib.parse import quote_plus

import httpx

from bastion.errors import ConfigError
from bastion.redteam._base import Target
from bastion.redteam._canary import planted
from bastion.redteam._config import check_userinfo, credentials, public_url
from bastion.redteam._errors import TargetError
from bastion.redteam._types import Message, Reply, Secrets
from bastion.redteam.targets._blocked import (
    BlockRule,
    blocked_statuses,
    blocked_values,
)
from bastion.redteam.targets._reply import Answer, AnswerReader
from bastion.redteam.targets._sessions import SessionKeeper
from bastion.redteam.targets._template import (
    SLOT,
    authorization,
    check_headers,
    check_path,
    check_template,
    did_you_mean,
    expand_env,
    fill_env,
    json_escape,
)
from bastion.redteam.targets._tls import tls_verify
from bastion.redteam.targets._url import check_url, default_body, expand_url, fill_url
from bastion.redteam.targets._wire import request_failed, send_bounded

#: The methods a chat API is called with (a typo, 'PSOT', was sent and met a 501); a GET or
#: DELETE carries the prompt in the URL (https://bot/api?q={prompt}).
_METHODS = ("POST", "PUT", "PATCH", "GET", "DELETE")


class HttpTarget(Target):
    """Any HTTP API that takes a prompt (or a conversation) and returns JSON or plain text.

    Args:
        url: the endpoint; it may carry ``{prompt}``, ``{session_id}``, ``{context}`` and
            ``{system}`` slots in its path or query (``https://bot/api?q={prompt}``), each
            value percent-encoded, and ``${ENV}`` references (never logged).
        body: the request body template with ``{prompt}``, ``{messages}``, ``{session_id}``,
            ``{context}`` and ``{system}`` slots (see the module docstring); ``${ENV}``
            references are filled from the environment and never logged. Left out:
            ``{"prompt": "{prompt}"}``, or no body when ``url`` carries ``{prompt}`` (a GET
            or DELETE must); empty (``-T body=``): no body.
        method: HTTP method: POST, PUT, PATCH, GET or DELETE (a GET or DELETE carries the
            prompt in ``url``).
        headers: request headers; ``${ENV}`` references are expanded, and ``{session_id}``
            is filled (``{"X-Session-Id": "{session_id}"}``); no other slot.
        response_path: where the reply text is in the JSON answer; empty for a plain-text body.
        session_path: where the server's conversation id is in the JSON answer (its value
            fills ``{session_id}`` in the next request); empty: Bastion makes the ids.
        context: what to do with planted context (documents, tool results) when the body
            has no ``{messages}`` or ``{context}`` slot: ``error`` refuses a campaign with
            such cases before it starts, ``inline`` pastes the context before the prompt.
        system_prompt: the application's system prompt: sent in the ``{system}`` slot or
            first in ``{messages}`` with a canary planted in it; with neither slot only
            looked for in answers (leak probes).
        plant_canary: plant a confidential canary in a sent ``system_prompt``.
        canaries: tokens planted in the application (its prompt, a record in its database)
            whose appearance in an answer is a leak.
        blocked_status: HTTP statuses that mean "blocked by a guardrail" (a refusal).
        blocked_path: where a JSON answer (HTTP 200 or a 4xx) says a guardrail blocked the
            prompt, for guardrails that answer ``{"blocked": true}`` or ``{"error": {"code":
            "content_filter"}}``: such an answer is a refusal; an answer without the path is
            read as usual.
        blocked_value: the value at ``blocked_path`` that means blocked (``content_filter``),
            or a list of them for a guardrail with several (``[blocked, filtered]``); unset:
            any value but null, false, 0 or an empty one.
        timeout: seconds one request may take in all (connecting, waiting and reading: an
            answer still arriving then is cut off); a timeout is retryable.
        verify: check the endpoint's TLS certificate: true (public roots), the path of a CA
            bundle (PEM) for an internal CA or a self-signed certificate, or false (no check;
            a warning, and the report says so).
        transport: an httpx transport (tests).
    """

    name = "http"
    description = ("Any HTTP API: body and URL templates ({prompt}, {messages}, {session_id}, "
                   "{context}, {system}), JSON path; GET too.")
    hidden_options: ClassVar[tuple[str, ...]] = ("transport",)

    def __init__(self, url: str, body: str | None = None, method: str = "POST",
                 headers: Mapping[str, str] | None = None, response_path: str = "response",
                 session_path: str = "", context: Literal["inline", "error"] = "error",
                 system_prompt: str | None = None, plant_canary: bool = True,
                 canaries: Sequence[str] = (), blocked_status: Sequence[int] = (),
                 blocked_path: str = "",
                 # A value or a list of them (Scalar | Sequence[Scalar]), checked by
                 # blocked_values: the option check's message for that union named its first
                 # branch only ('Input should be a valid string' for a list holding null).
                 blocked_value: object = None,
                 timeout: float = 60.0, verify: bool | str = True,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"HTTP target option 'url' {public_url(url)!r} must start with "
                              "http:// or https://")
        check_url(url, session_path)  # first: a slot's typo is named before a missing one
        if body is None:
            body = default_body(method, url)
        check_headers(headers or {})
        check_template(body, session_path, context, system_prompt, url=url, headers=headers)
        for option, path in (("response_path", response_path), ("session_path", session_path)):
            check_path(path, option)
        if method.upper() not in _METHODS:
            raise ConfigError(f"HTTP target option 'method' {method!r} is no method a chat API "
                              f"is called with; use one of {', '.join(_METHODS)}"
                              f"{did_you_mean(method.upper(), _METHODS)}")
        self.url, self.body, self.method = url, body, method.upper()
        self._shown = public_url(url)  # for messages, which reach logs and reports
        self.headers = {k: expand_env(v, f"HTTP target header {k!r}")
                        for k, v in (headers or {}).items()}
        check_userinfo(url, "HTTP target option 'url'", authorization(self.headers))
        self.response_path, self.session_path, self.context = response_path, session_path, context
        sent = self._has("{system}") or self._has("{messages}")
        self._system, token = (planted(system_prompt) if system_prompt and sent and plant_canary
                               else (system_prompt, ""))
        self._secrets = Secrets(canaries=(*canaries, *([token] if token else [])),
                                system_prompt=self._system)
        self.blocked_status = blocked_statuses(blocked_status)
        self.blocked = BlockRule(blocked_path, blocked_values(blocked_value))
        self.blocked.check(response_path)
        self._json = body.lstrip().startswith(("{", "["))
        self._sent, self._body_keys = fill_env(body, "HTTP target option 'body'",
                                               escape=json_escape if self._json else None)
        self._url, self._url_keys = expand_url(url)
        given = next((v for k, v in self.headers.items() if k.lower() == "content-type"), None)
        # A form's values are URL-encoded: a prompt's '&' or '=' began a new field.
        self._form = (given or "").lower().startswith("application/x-www-form-urlencoded")
        self._type = {} if given or not body else {
            "content-type": "application/json" if self._json else "text/plain"}
        self.timeout = timeout
        self._client = httpx.AsyncClient(
            timeout=timeout, transport=transport,
            verify=tls_verify(verify, self._shown, "HTTP target option 'verify'"))
        self._reader = AnswerReader(self._shown, response_path, session_path,
                                    self.blocked_status, self.blocked, self.credentials)
        self._sessions = SessionKeeper(self._ask, session_path, self._shown)

    @property
    def credentials(self) -> tuple[str, ...]:
        """Secret header values, the URL's password and keys, and the values of ``${ENV}``
        references in the body and the URL (never recorded)."""
        return (*credentials(self.headers, self.url), *self._body_keys, *self._url_keys)

    @property
    def multi_turn(self) -> bool:
        """True when the template can carry a conversation (history or a session id)."""
        return self._has("{messages}") or self._has("{session_id}")

    def _has(self, slot: str) -> bool:
        """True when the body, the URL or a header has ``slot``."""
        return (slot in self.body or slot in self.url
                or any(slot in v for v in self.headers.values()))

    @property
    def secrets(self) -> Secrets:
        """The option ``canaries``, the canary planted in a sent system prompt, the prompt."""
        return self._secrets

    @property
    def context_refused(self) -> str | None:
        """Why planted context cannot be sent, or None (see the module docstring)."""
        if self._has("{messages}") or self._has("{context}") or self.context == "inline":
            return None
        return ("the HTTP target's options 'body' and 'url' have no {context} or {messages} "
                "slot for it: "
                "add {context} where the application takes documents (e.g. -T 'body={\"q\": "
                "\"{prompt}\", \"docs\": \"{context}\"}'), or set -T context=inline to paste "
                "it before the prompt (it then arrives as the user's own text), or leave "
                "these probes out")

    def _fill(self, value: str) -> str:
        if self._form:
            return quote_plus(value)
        return json_escape(value) if self._json else value

    def render(self, prompt: str, messages: Sequence[Message] = (), session: str = "",
               context: str = "") -> str:
        """The request body for a prompt, the conversation it ends, its session id and the
        planted context."""
        system = [Message("system", self._system)] if self._system else []
        history = json.dumps([{"role": m.role, "content": m.content,
                               **({"name": m.name} if m.name else {})}
                              for m in [*system, *messages]])
        values = {"prompt": self._fill(prompt), "session_id": self._fill(session),
                  "context": self._fill(context), "system": self._fill(self._system or "")}
        return SLOT.sub(lambda m: values.get(m.group(1) or "messages", history), self._sent)

    async def send(self, messages: Sequence[Message]) -> Reply:
        """Send the conversation as the template allows (see the class docstring)."""
        turns = [m for m in messages if m.role in ("user", "assistant")]
        context = [m for m in messages if m.role not in ("user", "assistant")]
        prompt = next((m.content for m in reversed(messages) if m.role == "user"), "")
        if "{messages}" in self.body:
            answer = await self._ask(prompt, messages)
            return Reply(answer.text, answer.blocked)
        documents = "\n\n".join(f"[{m.name or m.role}]\n{m.content}" for m in context)
        if context and not self._has("{context}"):
            if self.context_refused:
                raise TargetError(f"the case plants context (a document or tool result), but "
                                  f"{self.context_refused}")
            prompt = f"{documents}\n\n{prompt}"
        if self._has("{session_id}"):
            return await self._sessions.send(turns, prompt, documents)
        if len([m for m in turns if m.role == "user"]) > 1:
            raise TargetError("HTTP target got a multi-turn conversation but option 'body' has "
                              "no {messages} or {session_id} slot; add one (or run single-turn "
                              "strategies only)")
        answer = await self._ask(prompt, context=documents)
        return Reply(answer.text, answer.blocked)

    async def _ask(self, prompt: str, messages: Sequence[Message] = (), session: str = "",
                   context: str = "") -> Answer:
        """One request: the URL and the body filled for a prompt, the conversation it ends,
        its session id and the planted context."""
        url = fill_url(self._url, {"prompt": prompt, "session_id": session, "context": context,
                                   "system": self._system or ""})
        return await self._request(url, self.render(prompt, messages, session, context),
                                   session or None)

    async def _request(self, url: str, content: str, session: str | None) -> Answer:
        headers = {**self._type,  # a Content-Type given in 'headers' wins
                   **{k: v.replace("{session_id}", session or "")
                      for k, v in self.headers.items()}}
        try:
            response = await send_bounded(self._client, self._client.build_request(
                self.method, url, headers=headers,
                content=content.encode("utf-8") if content else None), deadline=self.timeout)
        except httpx.HTTPError as exc:
            raise request_failed(exc, self._shown, self.timeout, f"cannot reach {self._shown}"
                                 ) from exc
        return self._reader.read(response, session)

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()
