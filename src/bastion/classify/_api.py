"""The one entry point everything calls: ``classify(texts, policy)``."""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from typing import Any

from bastion.classify._base import Classifier
from bastion.classify._registry import create
from bastion.classify._verdict import Verdict
from bastion.errors import InputError
from bastion.policy import Policy, load_policy

DEFAULT_TIER = "default"
"""The shipped default: rules, then the embedded contextual model (cascade, no deep tier)."""
FAST_TIER = "fast"
"""Bulk pre-filtering: rules, then static-embedding heads (tens of thousands of texts/s)."""
_PROFILES: dict[str, dict[str, Any]] = {
    DEFAULT_TIER: {"model": "embedded"},
    FAST_TIER: {"model": "static"},
}

MAX_TEXT_CHARS = 1_000_000

_instances: dict[str, Classifier] = {}
_lock = threading.Lock()


def get_classifier(tier: str = DEFAULT_TIER, **options: Any) -> Classifier:
    """A shared classifier instance for a tier name and options (created on first use)."""
    key = json.dumps([tier, options], sort_keys=True, default=str)
    with _lock:
        instance = _instances.get(key)
        if instance is None:
            instance = (create("cascade", **(_PROFILES[tier] | options)) if tier in _PROFILES
                        else create(tier, **options))
            _instances[key] = instance
        return instance


def is_profile(tier: str) -> bool:
    """True for ``default`` and ``fast``, the cascades built in rather than registered."""
    return tier in _PROFILES


def _check(texts: Sequence[str]) -> None:
    if isinstance(texts, str):
        raise InputError("classify() takes a list of texts; wrap a single text as [text]")
    for index, text in enumerate(texts):
        if not isinstance(text, str):
            raise InputError(f"text #{index} is {type(text).__name__}, not str")
        if len(text) > MAX_TEXT_CHARS:
            raise InputError(f"text #{index} has {len(text)} characters; the limit is "
                             f"{MAX_TEXT_CHARS}; split the document first")


def classify(
    texts: Sequence[str], policy: str | Policy = "default", *, tier: str = DEFAULT_TIER,
    **options: Any,
) -> list[Verdict]:
    """Classify texts against a policy; one verdict per text, in order.

    Args:
        texts: the texts (a list, even for one text).
        policy: a loaded policy, a path to a policy file, or a built-in policy id.
        tier: a profile (``default``: rules then the contextual model; ``fast``: rules then
            static embeddings) or the registry name of a tier (``rules``, ``embedded``,
            ``static``, ``llm``, ``cascade`` ...).
        **options: constructor options of the tier.
    """
    _check(texts)
    return get_classifier(tier, **options).classify(list(texts), load_policy(policy))


async def aclassify(
    texts: Sequence[str], policy: str | Policy = "default", *, tier: str = DEFAULT_TIER,
    **options: Any,
) -> list[Verdict]:
    """Async form of :func:`classify`."""
    _check(texts)
    return await get_classifier(tier, **options).aclassify(list(texts), load_policy(policy))
