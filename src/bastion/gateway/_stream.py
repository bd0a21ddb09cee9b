"""The stream guard: hold generated text back, check it, and only then release it.

For every (choice, field) buffer the guard checks once ``window_chars`` new characters have
arrived, together with up to ``context_chars`` of text already released, so text split across
chunks is checked as a whole; the same check also sees each touched choice's answer so far
(``accumulated_chars``), so a whole that is harmful is caught although no window is. Checked
text leaves only up to the last sentence end (and never within ``tail_chars`` of the end), so
a phrase cut at a check boundary is never half released. When a window comes close to a
severe category, or the policy says so, the rest of the answer is held whole until the final
check. When the upstream stalls for ``max_hold_s`` the pending text is checked early. At the
end each choice is checked in full — the very check a non-streamed request gets — before the
last frames and ``[DONE]`` leave.

A violation, a classifier failure on a fail-closed route, a malformed or unreadable event or a
broken upstream ends the stream with an SSE error frame and no ``[DONE]``; held text never
leaves.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
import httpx

from bastion.classify import Verdict, unescape_spans
from bastion.gateway._abuse import assess
from bastion.gateway._admit import charge_completion
from bastion.gateway._arrival import is_arguments
from bastion.gateway._buffers import ARRIVAL, per_choice, reading_of
from bastion.gateway._context import Context
from bastion.gateway._guard import Check, Outcome, outcome_of
from bastion.gateway._held import Held
from bastion.gateway._keymask import mask_answer_keys
from bastion.gateway._pieces import shows_pieces
from bastion.gateway._respond import MODEL_PREFIX, dumps, policy_details, sse_error
from bastion.gateway._responses import TERMINAL, sign_response
from bastion.gateway._split import across, cut, links_in, spelled_apart
from bastion.gateway._sse import Event, EventReader
from bastion.gateway._upstream import (
    WITHHELD_KEY,
    encoded_across,
    upstream_key,
    withhold_upstream,
)
from bastion.gateway._usage import reported_prompt_tokens, reported_tokens
from bastion.gateway._walk import Key, Unreadable
from bastion.policy import SEVERITY_WEIGHT, Policy
from bastion.redact import StreamMasker, StreamRestorer, Vault

logger = logging.getLogger("bastion.gateway")

_ENCODED_KEY = "the upstream's answer quoted the gateway's own credentials (encoded)"
_KEY_IN_PIECES = "the upstream's answer quoted the gateway's own credentials (in pieces)"


class Stop(Exception):  # noqa: N818 - a control-flow signal, not an error report
    """End the stream with this SSE error frame."""

    def __init__(self, frame: str) -> None:
        super().__init__(frame)
        self.frame = frame


class StreamGuard:
    """Guards one streamed response.

    Lifetime: one stream. Concurrency: one task. Failure: everything ends in an error frame;
    the audit event is submitted however the stream ends (client gone included).

    Args:
        ctx: the request's record.
        response: the upstream's streamed response (closed by the guard).
        policy: the output policy.
        fail_open: the route's output fail-open setting.
        vault: the request's redaction vault, whose placeholders are restored.
        mask: mask PII and secrets the model generates (the output policy redacts).
        drop_usage: the gateway asked for usage (``_proxy.ask_usage``): the chunk that
            carries it alone is read, not sent.
    """

    def __init__(self, ctx: Context, response: httpx.Response, policy: Policy, *,
                 fail_open: bool, vault: Vault | None, mask: bool = False,
                 drop_usage: bool = False) -> None:
        self.ctx = ctx
        self.drop_usage = drop_usage
        self.config = ctx.gateway.config.stream
        self.response = response
        self.policy = policy
        self.fail_open = fail_open
        self.secret = upstream_key(ctx)
        self.held = Held(said=mask, secret=self.secret)
        self.terminal = False  # a Responses stream sent its final event (it has no [DONE])
        self.accumulated_at: dict[int, int] = {}
        self.hold = self.config.hold_for(policy.id)
        self.holding = self.hold.whole_answer
        self.severities = {c.code: c.severity for c in policy.categories}
        self.window_checks = 0
        #: Characters of answer when a window was flagged and not yet confirmed (see
        #: :meth:`_read_on`).
        self.flagged_at: int | None = None
        self.reported_tokens = 0  # what the upstream says the answer cost, when it says
        self.reported_prompt = 0  # and the prompt
        self.restorers: dict[Key, StreamRestorer] = {}
        self.vault = vault if vault is not None and len(vault) else None
        self.masker = (StreamMasker(Vault(ctx.gateway.detectors, prefix=MODEL_PREFIX))
                       if mask else None)

    async def run(self) -> AsyncIterator[str]:
        """The frames to send to the client."""
        reader = EventReader(self.response)
        try:
            async for frame in self._frames(reader):
                yield frame
        except Stop as stop:
            yield stop.frame
        finally:
            await reader.close()
            await self.response.aclose()
            self.ctx.extra["window_checks"] = self.window_checks
            self.ctx.extra["generated_chars"] = self.held.total_chars()
            with anyio.CancelScope(shield=True):  # a client gone mid-stream still pays
                await charge_completion(self.ctx, self.reported_tokens,
                                        self.held.buffers.values(), prompt=self.reported_prompt)
            self.ctx.finish()

    async def _frames(self, reader: EventReader) -> AsyncIterator[str]:
        while True:
            event = await reader.next(self.config.max_hold_s)
            if event is None:  # the upstream stalls: check what is held, release what passes
                await self._check(force=True)
            elif event.kind == "data":
                self._accept(event)
                await self._check(force=False)
            elif event.kind in ("done", "end"):
                for frame in await self._finish(event):
                    yield frame
                return
            else:
                self._fail(event.data, "upstream_stream_error")
            for frame in self.held.releasable(self._rewrite(), self._rename()):
                yield frame

    def _accept(self, event: Event) -> None:
        try:
            chunk = json.loads(event.data)
        except (ValueError, RecursionError):
            self._fail("the upstream sent a malformed event (not JSON)", "upstream_malformed")
        if not isinstance(chunk, dict):
            self._fail("the upstream sent a malformed event (not an object)",
                       "upstream_malformed")
        withhold_upstream(self.ctx, event.data, chunk)
        kind = chunk.get("type") if self.ctx.route == "responses" else None
        if "error" in chunk or kind in ("error", "response.failed"):
            self._fail("the upstream reported an error mid-stream", "upstream_error")
        if kind in TERMINAL:
            self.terminal = True
        self.reported_tokens = max(self.reported_tokens, reported_tokens(chunk))
        self.reported_prompt = max(self.reported_prompt, reported_prompt_tokens(chunk))
        if self.drop_usage and chunk.get("choices") == [] and "usage" in chunk:
            return  # the gateway's own question, for the budget; the client did not ask
        named = f"event: {kind}\n" if kind else ""  # a name: event_texts refuses other types
        signed = isinstance(chunk.get("response"), dict) and self.ctx.route == "responses"
        if signed:  # the client sees account-bound ids
            assert self.ctx.principal is not None
            sign_response(chunk["response"], self.ctx.principal.account.id,
                          self.ctx.gateway.identity_secret, final=kind in TERMINAL)
        # A chunk leaves as the gateway read it, never as the bytes that came: a key sent twice
        # was read by its last value and forwarded with both, and a client that keeps the
        # first showed unread text (a black-box pass, issue 8); and JSON may break lines
        # between tokens, each of which would reach the client as an SSE line of its own.
        try:
            self.held.add(self.ctx.route, f"{named}data: {dumps(chunk)}\n\n", chunk,
                          self.ctx.body)
        except (Unreadable, RecursionError) as exc:
            self._fail(f"the upstream sent a chunk the gateway cannot read ({exc})",
                       "upstream_malformed")

    def _rename(self) -> Callable[[dict[str, Any]], object] | None:
        """What masks (and restores) the keys of a chunk's objects as values are, as it leaves
        (see ``_keymask``): a key comes whole in one chunk, so it needs no hold-back."""
        if self.masker is None and self.vault is None:
            return None
        mask = self.masker.vault if self.masker is not None else None

        def rename(chunk: dict[str, Any]) -> None:
            try:
                mask_answer_keys(chunk, mask, self.vault)
            except ValueError as exc:
                self._fail(f"the upstream sent a chunk whose keys cannot be masked ({exc})",
                           "upstream_malformed")

        return rename

    async def _check(self, *, force: bool) -> None:
        keys = self.held.due(self.config.window_chars, force=force,
                             sentences=self.config.sentences)
        if not keys:
            return
        texts = [reading_of(k, self.held.buffers[k][max(0, self.held.checked.get(k, 0)
                                                    - self.config.context_chars):])
                 for k in keys]
        texts.extend(self._accumulated(keys, min(map(len, texts))))
        verdicts = await self.ctx.gateway.guard.classify(texts, self.policy)
        self.window_checks += 1
        outcome = await self._read_on(outcome_of(verdicts, fail_open=self.fail_open), verdicts)
        if outcome in ("block", "error"):
            await self._stop(Check("output", self.policy, outcome, verdicts))
        if not self.holding and self._suspicious(verdicts):
            self.holding = True
            self.ctx.extra["stream_hold"] = "whole answer (a window came close to a " \
                f"{self.hold.whole_answer_at} category)"
        within = None if force or not self.config.sentences else self.config.max_sentence_chars
        for key in keys:
            self.held.mark_checked(key, self.config.tail_chars, release=not self.holding,
                                   sentence_within=within)
        if self.held.encoded:
            self._fail(_ENCODED_KEY, "upstream_malformed")
        if self.held.pieces:
            self._fail(_KEY_IN_PIECES, "upstream_malformed")

    async def _read_on(self, outcome: Outcome, verdicts: list[Verdict]) -> Outcome:
        """Whether a flagged window stops the stream now. A piece of an answer can read worse
        than the whole (half a shell script was an injection to the model, and one flagged
        window stopped an answer that passes whole, so streamed and whole verdicts differed):
        the first flag holds the rest of the answer instead, and once ``window_chars`` more
        have come the answer so far is read whole, as the non-streamed check reads it. A
        block there stops the stream; a pass keeps the answer held to the final check. So
        nothing unchecked leaves either way, and a harmful answer stops one window later.
        """
        if outcome == "block" and self.flagged_at is None:
            self.flagged_at = self.held.total_chars()
            self.holding = True
            self.ctx.extra["stream_hold"] = "whole answer (a window was flagged; reading on)"
            return "pass"
        if self.flagged_at is None or outcome == "error" \
                or self.held.total_chars() - self.flagged_at < self.config.window_chars:
            return "pass" if outcome == "block" else outcome
        whole = await self.ctx.gateway.guard.classify(
            [*self.held.choice_texts(), *self.held.key_names()], self.policy)
        confirmed = outcome_of(whole, fail_open=self.fail_open)
        if confirmed in ("block", "error"):
            verdicts[:] = whole
            return confirmed
        self.flagged_at = None  # the answer so far passes: a later flag reads on again
        return "pass"

    def _accumulated(self, keys: list[Key], shortest: int) -> list[str]:
        """The answer so far of each choice touched (its last ``accumulated_chars``), when
        ``accumulated_every_chars`` have come since that choice's last such check."""
        limit, every = self.config.accumulated_chars, self.config.accumulated_every_chars
        out = []
        for choice in sorted({k[0] for k in keys}):
            mine = {k: v for k, v in self.held.buffers.items() if k[0] == choice}
            text = "\n".join(per_choice(mine))
            if not limit or len(text) - self.accumulated_at.get(choice, 0) < every:
                continue
            self.accumulated_at[choice] = len(text)
            if len(text[-limit:]) > shortest:
                out.append(text[-limit:])
        return out

    def _suspicious(self, verdicts: list[Verdict]) -> bool:
        """True when a window scored a severe category close to its threshold."""
        at = self.hold.whole_answer_at
        if at is None:
            return False
        floor = SEVERITY_WEIGHT[at]
        return any(SEVERITY_WEIGHT[self.severities.get(c.code, "medium")] >= floor
                   and c.score >= self.hold.suspicion * c.threshold
                   for v in verdicts for c in v.categories)

    async def _finish(self, event: Event) -> list[str]:
        gateway, ctx = self.ctx.gateway, self.ctx
        buffers = list(self.held.buffers.values())
        if across([*buffers, *self.held.apart, *links_in(buffers)], self.secret):
            # a field's end that begins the key was held (Held.secret), and every frame after
            # it: the key cut between two fields leaves nothing
            self._fail("the upstream's answer quoted the gateway's own credentials (cut "
                       "between two fields)", "upstream_malformed")
        if self.held.encodes_secret() or encoded_across(self.held.buffers, self.secret):
            # (an answer held whole was not read so yet; a field's end run waited here)
            self._fail(_ENCODED_KEY, "upstream_malformed")
        fields = [text for key, text in self.held.buffers.items() if key[1] != ARRIVAL]
        if shows_pieces([*fields, *self.held.apart], self.secret):
            # (a piece that ends a field, or an answer held whole, was not read so yet; not
            # the ARRIVAL reading: see Held._shows_piece)
            self._fail(_KEY_IN_PIECES, "upstream_malformed")
        if self._spelled_across():
            self._fail("the upstream's answer quoted the gateway's own credentials (spelled "
                       "across fields in the order they came)", "upstream_malformed")
        texts = self.held.choice_texts()
        check = ctx.add(await gateway.guard.check("output", texts, self.policy,
                                                  fail_open=self.fail_open,
                                                  alone=self.held.key_names()))
        if check.outcome in ("block", "error"):
            await self._stop(check, counted=True)
        self.held.release_all()
        frames = list(self.held.releasable(self._rewrite(), self._rename()))
        frames.extend(self._flush_restorers())
        if self.masker is not None:
            check.settle_masking(len(self.masker.vault))
        if event.kind == "end" and self.terminal:
            frames.append(f": bastion-checks {check.label}\n\n")
            return frames
        if event.kind == "end":
            ctx.outcome, ctx.reason = "upstream_error", "stream ended without [DONE]"
            frames.append(sse_error("the upstream ended the stream without [DONE]; the text "
                                    "above was checked", "upstream_incomplete"))
            return frames
        frames.append(f": bastion-checks {check.label}\n\n")
        frames.append("data: [DONE]\n\n")
        return frames

    def _spelled_across(self) -> bool:
        """Whether a choice's pieces, read in the order they came (``ARRIVAL``: its fields
        interleave), spell the upstream key that no field holds: content 'Your token is
        internal', reasoning '-vllm-token-7f3a9c', then more content reached a client
        printing every delta whole (a black-box pass, issue 8). Every frame from where the
        reading holds the key was held to here (``Held.mark_checked``), and so was a head
        that may end it (``Held._head_end``); a key's beginning released before its field
        went on has left."""
        if not self.secret:
            return False
        buffers = self.held.buffers
        fields = [text for key, text in buffers.items() if key[1] != ARRIVAL]
        return any(spelled_apart(text, fields, self.secret)
                   for key, text in buffers.items() if key[1] == ARRIVAL)

    async def _stop(self, check: Check, *, counted: bool = False) -> None:
        ctx = self.ctx
        if not counted:
            ctx.add(check)
        if check.outcome == "block":
            ctx.outcome = "blocked_output"
            await assess(ctx, "")
            raise Stop(sse_error(f"{ctx.gateway.config.refusal.message} The completion "
                                 f"violates policy {check.policy.id!r}; the stream was "
                                 "stopped.", "content_policy_violation",
                                 policy_details(check, rules=ctx.sees_rules())))
        ctx.outcome, ctx.reason = "classifier_error", "output check failed (fail-closed)"
        raise Stop(sse_error("the output could not be checked (classifier error or "
                             "timeout), so the stream was stopped; retry later",
                             "classifier_unavailable"))

    def _fail(self, message: str, code: str) -> Any:
        self.ctx.outcome, self.ctx.reason = "upstream_error", message
        logger.warning("stream %s: %s", self.ctx.request_id, message)
        raise Stop(sse_error(f"{message}; the stream was stopped and unchecked text was "
                             "withheld", code))

    def _rewrite(self) -> Callable[[Key, int, int], str] | None:
        if self.vault is None and self.masker is None and not self.secret:
            return None
        vault, masker, buffers = self.vault, self.masker, self.held.buffers

        def written(key: Key, start: int, end: int) -> str:
            text = self._masked(masker, key, start, end) if masker else buffers[key][start:end]
            if vault is not None:
                text = self.restorers.setdefault(key, StreamRestorer(vault)).feed(text)
            return text

        def rewrite(key: Key, start: int, end: int) -> str:
            # the upstream key cut across chunks (a whole one was scrubbed in its chunk)
            text, found = cut(buffers[key], self.secret, start, end, WITHHELD_KEY,
                              lambda a, b: written(key, a, b))
            if found:
                self.ctx.extra["upstream_text_withheld"] = True
            return text

        return rewrite

    def _masked(self, masker: StreamMasker, key: Key, start: int, end: int) -> str:
        """``buffers[key][start:end]`` masked: values within the field by its masker, and the
        parts of values that run across fields (see ``_said``) each by its placeholder."""
        buffer, said = self.held.buffers[key], self.held.said
        decode = unescape_spans if is_arguments(key) else None
        out: list[str] = []
        at = start
        for lo, hi, placeholder in said.parts(key, start, end, masker.vault) if said else ():
            out.extend((masker.slice(buffer, at, lo, decode=decode), placeholder))
            at = hi
        out.append(masker.slice(buffer, at, end, decode=decode))
        return "".join(out)

    def _flush_restorers(self) -> list[str]:
        frames = []
        for (index, name), restorer in self.restorers.items():
            rest = restorer.finish()
            if rest and self.ctx.route == "responses" and name == "content" and index == 0:
                chunk: dict[str, Any] = {"type": "response.output_text.delta", "delta": rest,
                                         "item_id": "", "output_index": 0, "content_index": 0}
                frames.append("event: response.output_text.delta\ndata: "
                              + json.dumps(chunk, ensure_ascii=True) + "\n\n")
            elif rest and name in ("content", "text"):
                choice: dict[str, Any] = ({"index": index, "text": rest} if name == "text"
                                          else {"index": index, "delta": {"content": rest}})
                chunk = {"object": "chat.completion.chunk", "choices": [choice]}
                frames.append("data: " + json.dumps(chunk, ensure_ascii=True) + "\n\n")
        return frames
