"""Answers the gateway rebuilds from their data alone: embeddings and model lists.

Their text is not read; everything but the data their API defines is dropped, so no text
rides along unread.
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Callable
from typing import Any

from bastion.gateway._extract import inert
from bastion.gateway._walk import Unreadable


def embeddings_answer(data: Any, model: Any) -> dict[str, Any]:
    """An embeddings answer rebuilt from its vectors alone, so no text rides along unread.

    Only what the embeddings API defines is kept: each item's index and vector (floats, or
    base64 of float32 with ``encoding_format: base64``), the model name when it is an inert
    identifier (the requested model otherwise) and the token counts; any other field is
    dropped.

    Raises:
        Unreadable: not an embeddings answer (the message says where).
    """
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        raise Unreadable("not an embeddings answer ('data' is not a list)")
    items = []
    for at, item in enumerate(data["data"]):
        vector = item.get("embedding") if isinstance(item, dict) else None
        index = item.get("index", at) if isinstance(item, dict) else None
        if not _vector(vector) or not isinstance(index, int) or isinstance(index, bool):
            raise Unreadable(f"data.{at} is not an embedding (a vector and its index)")
        items.append({"object": "embedding", "index": index, "embedding": vector})
    named = data.get("model")
    out: dict[str, Any] = {"object": "list", "data": items,
                           "model": named if isinstance(named, str) and inert(named) else model}
    usage = data.get("usage")
    if isinstance(usage, dict):
        out["usage"] = {k: v for k, v in usage.items() if k in ("prompt_tokens", "total_tokens")
                        and isinstance(v, int) and not isinstance(v, bool)}
    return out


def models_answer(data: Any, allowed: Callable[[str], bool]) -> dict[str, Any]:
    """A model list rebuilt from the models' names, so no text rides along unread.

    Each model keeps its id (when it is an inert identifier the key may use), its creation
    time and its owner (when inert; "unknown" otherwise); descriptions, permissions and any
    other field are dropped, and a model whose name reads as text is left out.

    Raises:
        Unreadable: not a model list.
    """
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        raise Unreadable("not a model list ('data' is not a list)")
    models = []
    for at, item in enumerate(data["data"]):
        name = item.get("id") if isinstance(item, dict) else None
        if not isinstance(name, str):
            raise Unreadable(f"data.{at} is not a model (no string id)")
        if not inert(name) or not allowed(name):
            continue
        created, owner = item.get("created"), item.get("owned_by")
        models.append({"id": name, "object": "model",
                       "created": created if isinstance(created, int)
                       and not isinstance(created, bool) else 0,
                       "owned_by": owner if isinstance(owner, str) and inert(owner)
                       else "unknown"})
    return {"object": "list", "data": models}


def _vector(value: Any) -> bool:
    """True for a list of finite numbers, or base64 of float32 values."""
    if isinstance(value, list):
        return all(isinstance(x, (int, float)) and not isinstance(x, bool)
                   and math.isfinite(x) for x in value)
    if isinstance(value, str):
        try:
            return len(base64.b64decode(value, validate=True)) % 4 == 0
        except (binascii.Error, ValueError):
            return False
    return False
