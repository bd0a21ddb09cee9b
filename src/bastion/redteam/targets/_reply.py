"""Reading an HTTP target's answer: a guardrail's block, an error, or the reply at
``response_path`` and the session id at ``session_path``.

An answer with no reply in it is an error, never an empty reply: read as one, the refusal
detector counted it as a refusal (or left it unjudged while a canary check called it no
leak), and a target that answered nothing lowered the attack success rate without a word.
So each of these ends the attempt as an error, which the gate counts (``--max-error-rate``):

* a 2xx (or other non-error) answer whose body is empty or only white space (a 204, a proxy
  that dropped the body, a wrapper that caught its own exception);
* a JSON answer without ``response_path``, or with null there;
* a JSON answer whose value at ``response_path`` is an empty (or all-blank) text, list or
  object. The path exists, so this could be the model choosing to say nothing; it is still an
  error, because a generic HTTP API gives no sign telling that apart from an application
  that failed and answered its default (``{"answer": ""}``), and counting the failure as a
  refusal is the error that hides (the OpenAI target reads ``finish_reason``, which does
  tell: an empty ``stop`` is the model's answer there). An application that answers empty
  text when its guardrail blocks a prompt says so with ``blocked_path`` set to the reply's
  path and ``blocked_value`` set to ``""``: the empty answer is then a block.

Messages name the path and show how the answer begins (120 characters, the target's
credentials replaced by ``[redacted]``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx

from bastion.redteam._config import scrub
from bastion.redteam._errors import TargetError
from bastion.redteam.targets._answer import not_json, redirected, streamed
from bastion.redteam.targets._blocked import BlockRule
from bastion.redteam.targets._template import json_path, reply_text
from bastion.redteam.targets._wire import RETRYABLE, http_failure

_HEADERS = "'headers' (the key it refuses; an ${ENV} reference must name the right variable)"
_HINTS = {401: _HEADERS, 403: f"{_HEADERS}, or list 403 in 'blocked_status' if it means a "
                              "guardrail blocked the prompt",
          404: "'url'", 405: "'method'",
          414: "'url' (a prompt is too long for a URL: put {prompt} in option 'body', with "
               "method POST)"}
#: How much of an answer a message shows.
_SHOWN = 120


@dataclass(frozen=True)
class Answer:
    """One HTTP answer: the reply text, a guardrail block, the session id it carries."""

    text: str
    blocked: bool
    session: str | None


@dataclass(frozen=True)
class AnswerReader:
    """Reads an HTTP target's answers by its options.

    Attributes:
        shown: the target's URL as messages show it (credentials redacted).
        response_path: where the reply is in a JSON answer; "" for a plain-text answer.
        session_path: where the server's conversation id is; "" when Bastion makes them.
        blocked_status: the statuses that mean a guardrail blocked the prompt.
        blocked: where a JSON answer says so.
        credentials: values taken out of the answers messages show.
    """

    shown: str
    response_path: str
    session_path: str
    blocked_status: frozenset[int]
    blocked: BlockRule
    credentials: tuple[str, ...] = ()

    def read(self, response: httpx.Response, session: str | None) -> Answer:
        """The answer's reply, or a TargetError saying why it holds none."""
        if response.status_code in self.blocked_status:
            return Answer(f"[blocked: HTTP {response.status_code}]", True, session)
        blocked = self._blocked(response)
        if blocked:
            return Answer(blocked, True, session)
        if response.status_code >= 400:
            raise http_failure(f"{self.shown} answered HTTP {response.status_code}: "
                               f"{self._begins(response, 200)}", response, _HINTS)
        unreadable = (redirected(self.shown, response) if 300 <= response.status_code < 400
                      else streamed(self.shown, response))
        if unreadable:
            raise TargetError(unreadable)
        if not response.text.strip():
            raise TargetError(self._empty_body(response))
        if not self.response_path:
            return Answer(response.text, False, session)
        try:  # bytes that are not UTF-8 read as U+FFFD, as a plain-text answer's do
            data = json.loads(response.text)
        except ValueError as exc:
            raise TargetError(not_json(self.shown, response, exc)) from exc
        return Answer(self._reply(data, response), False, self._session_in(data, session))

    def _reply(self, data: Any, response: httpx.Response) -> str:
        """The text at ``response_path``, or a TargetError: missing, null or empty there."""
        try:
            value = json_path(data, self.response_path)
            text = reply_text(value, self.response_path)
        except (ValueError, KeyError) as exc:
            raise TargetError(f"cannot read the reply from {self.shown} at option "
                              f"'response_path' {self.response_path!r}: {exc.args[0]}; the "
                              f"answer (HTTP {response.status_code}) begins "
                              f"{self._begins(response)}") from exc
        if value in ("", [], {}) or not text.strip():
            raise TargetError(f"the answer from {self.shown} holds {json.dumps(value)} at "
                              f"option 'response_path' {self.response_path!r} (it begins "
                              f"{self._begins(response)}): no reply, which is an error, not a "
                              "refusal; check that the path points at the reply, or, if the "
                              "application answers empty text when its guardrail blocks a "
                              f"prompt, say so: -T blocked_path={self.response_path} -T "
                              "'blocked_value=\"\"'")
        return text

    def _empty_body(self, response: httpx.Response) -> str:
        """Why an answer with an empty body is no reply."""
        where = (f"at option 'response_path' {self.response_path!r}" if self.response_path
                 else "(option 'response_path' is empty: the body is the reply)")
        return (f"{self.shown} answered HTTP {response.status_code} with an empty body: no "
                f"reply {where}, which is an error, not a refusal; check options 'url', "
                "'method' and 'body' (the request may not reach the chat API), or, if the "
                "application answers so when its guardrail blocks a prompt, list the status "
                "in option 'blocked_status' (a 204, for one)")

    def _begins(self, response: httpx.Response, size: int = _SHOWN) -> str:
        """The first characters of the answer, quoted, credentials redacted (before the cut:
        a key cut in two would no longer match)."""
        return repr(scrub(response.text, self.credentials)[:size])

    def _session_in(self, data: Any, session: str | None) -> str | None:
        """The session id an answer names; the one in use when it names none (many APIs
        return the id only in the answer that opens the conversation: every later turn
        failed with 'response has no ...')."""
        if not self.session_path:
            return session
        try:
            return reply_text(json_path(data, self.session_path), self.session_path)
        except (ValueError, KeyError):
            return session or None

    def _blocked(self, response: httpx.Response) -> str | None:
        """The reply standing for a block that a JSON answer names at option 'blocked_path',
        or None; a failed or busy server's answer (5xx, 429) is never a block, as in
        'blocked_status'."""
        status = response.status_code
        if not self.blocked.path or status >= 500 or status in RETRYABLE:
            return None
        try:
            return self.blocked.reads(json.loads(response.text))
        except ValueError:  # a plain-text answer says nothing at a JSON path
            return None
