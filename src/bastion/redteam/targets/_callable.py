"""A Python callable as target: wrap any function or coroutine function (an agent, a chain)."""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Sequence
from importlib import import_module
from typing import Any

import anyio.to_thread

from bastion.errors import ConfigError, RuntimeFailure
from bastion.redteam._base import Target
from bastion.redteam._errors import TargetError
from bastion.redteam._types import Message, Reply


def load_callable(spec: str) -> Callable[..., Any]:
    """Import ``package.module:function``."""
    module, _, attr = spec.partition(":")
    try:
        func = getattr(import_module(module), attr)
    except (ImportError, AttributeError, ValueError) as exc:
        raise ConfigError(f"cannot import callable {spec!r} (want 'module:function'): "
                          f"{exc}") from exc
    if not callable(func):
        raise ConfigError(f"{spec!r} is not callable")
    return func  # type: ignore[no-any-return]  # checked callable above


def _is_async(func: Callable[..., Any]) -> bool:
    call = getattr(func, "__call__", None)  # noqa: B004 - async __call__ of an instance
    return inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(call)


class CallableTarget(Target):
    """Calls ``func(prompt) -> str`` (or with ``conversation=True``, ``func(messages)``).

    Sync functions run in a worker thread so they never stall the campaign; coroutine
    functions are awaited. Exceptions become non-retryable TargetErrors.

    Args:
        func: the callable, or an import string ``module:function``.
        conversation: pass the whole list of :class:`~bastion.redteam.Message` instead of
            the last user message (needed for multi-turn strategies and planted context).
    """

    name = "callable"
    description = "A Python function or coroutine function: prompt in, text out."

    def __init__(self, func: Callable[..., Any] | str, conversation: bool = False) -> None:
        self.func = load_callable(func) if isinstance(func, str) else func
        self.conversation = conversation

    @property
    def multi_turn(self) -> bool:
        """Only a function given the whole conversation can hold one."""
        return self.conversation

    async def send(self, messages: Sequence[Message]) -> Reply:
        """Call the function with the prompt (or conversation)."""
        arg: Any = list(messages) if self.conversation else _prompt(messages)
        try:
            if _is_async(self.func):
                result = await self.func(arg)
            else:
                result = await anyio.to_thread.run_sync(self.func, arg)
        except RuntimeFailure:
            raise
        except Exception as exc:
            raise TargetError(f"target callable raised {type(exc).__name__}: {exc}") from exc
        if isinstance(result, Reply):
            return result
        if result is None:  # it was scored as the reply 'None'
            raise TargetError(f"target callable {_name(self.func)} returned None; return the "
                              "reply text (or a Reply)")
        if isinstance(result, str):
            return Reply(result)
        try:  # an object is its JSON, as the http target reads one (it was a Python repr)
            return Reply(json.dumps(result, ensure_ascii=False, default=str))
        except ValueError:  # a circular structure
            return Reply(str(result))


def _name(func: Callable[..., Any]) -> str:
    return repr(getattr(func, "__qualname__", type(func).__name__))


def _prompt(messages: Sequence[Message]) -> str:
    """The last user message, with planted context (tool results) quoted before it."""
    prompt = next((m.content for m in reversed(messages) if m.role == "user"), "")
    context = [f"[{m.name or m.role}]\n{m.content}" for m in messages
               if m.role not in ("user", "assistant")]
    return "\n\n".join([*context, prompt])
