"""Tool-call arguments as a model and a client read them: JSON text, decoded.

Arguments travel as a JSON string. Read raw, ``\\u0070ipe \\u0062omb`` hides words from the
keyword rules and the redaction detectors (``bob\\u0040example.com``), and JSON punctuation
around ordinary values (``{"city": "Z\\u00fcrich"}``) made the contextual model flag benign
calls. The client decodes the JSON, so the gateway reads what it decodes to, and masks
values in their decoded form.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from bastion.classify import json_reading, unescape


class _Object(list[tuple[str, Any]]):
    """A JSON object's key-value pairs in order, repeated keys kept (``json.loads`` keeps
    only the last value of a key, so a first one was never masked)."""


def _document(text: str) -> Any:
    """The JSON object or list ``text`` holds (objects as :class:`_Object`), or ``None``."""
    stripped = text.strip()
    if not stripped or stripped[0] not in "[{":
        return None
    try:
        value = json.loads(stripped, object_pairs_hook=_Object)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, list) else None


def _dump(value: Any) -> str:
    """JSON text of a document read by :func:`_document`, repeated keys written again."""
    if isinstance(value, _Object):
        return "{" + ", ".join(f"{json.dumps(key, ensure_ascii=False)}: {_dump(item)}"
                               for key, item in value) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_dump(item) for item in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def reading(text: str, *, arguments: bool = False) -> str:
    """What the classifier reads of ``text``: JSON (whole, or a piece of streamed JSON) as
    its strings, unescaped, and whatever else it holds (the classifier's own JSON reading, so
    the keyword rules see what the model sees); other text as it is, except tool-call
    ``arguments``, which are JSON to the client even when cut mid-string: their escapes are
    decoded."""
    found = json_reading(text)
    if found is not None:
        return found
    return unescape(text) if arguments else text


def mask_document(text: str, mask: Callable[[str], str]) -> str:
    """``text`` with ``mask`` applied to each string of the JSON document it holds (written
    back as JSON when anything changed, repeated keys kept), or, when it is not a document,
    to the text and then to its escapes decoded (an escaped value beside a plain one, or in
    two documents run together, could not be masked in place)."""
    document = _document(text)
    if document is None:
        masked = mask(text)
        decoded = unescape(masked)
        again = mask(decoded) if decoded != masked else decoded
        return again if again != decoded else masked
    changed = False

    def walk(value: Any) -> Any:
        nonlocal changed
        if isinstance(value, str):
            out = mask(value)
            changed = changed or out != value
            return out
        if isinstance(value, _Object):
            return _Object((walk(key), walk(item)) for key, item in value)
        if isinstance(value, list):
            return [walk(item) for item in value]
        return value

    rewritten = walk(document)
    return _dump(rewritten) if changed else text
