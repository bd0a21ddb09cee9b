"""Tool-call arguments as a model and a client read them: JSON text, decoded.

Arguments travel as a JSON string. Read raw, ``\\u0070ipe \\u0062omb`` hides words from the
keyword rules and the redaction detectors (``bob\\u0040example.com``), and JSON punctuation
around ordinary values (``{"city": "Z\\u00fcrich"}``) made the contextual model flag benign
calls. The client decodes the JSON, so the gateway reads what it decodes to, and masks
values in their decoded form.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from bastion.classify import json_reading

#: A JSON escape: ``\\uXXXX`` or one of the single-character escapes.
_ESCAPE = re.compile(r'\\(u[0-9a-fA-F]{4}|["\\/bfnrt])')
_SIMPLE = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r",
           "t": "\t"}


def unescape(text: str) -> str:
    """``text`` with its JSON escapes decoded (surrogate pairs joined); other text as is."""
    if "\\" not in text:
        return text
    decoded = _ESCAPE.sub(lambda m: chr(int(m.group(1)[1:], 16)) if m.group(1)[0] == "u"
                          else _SIMPLE[m.group(1)], text)
    return decoded.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def _document(text: str) -> Any:
    """The JSON object or list ``text`` holds, or ``None``."""
    stripped = text.strip()
    if not stripped or stripped[0] not in "[{":
        return None
    try:
        value = json.loads(stripped)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict | list) else None


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
    back as JSON when anything changed), or to its decoded form when it is not a document
    (an escaped value could not be masked in place)."""
    document = _document(text)
    if document is None:
        masked = mask(text)
        if masked == text and unescape(text) != text:
            decoded = unescape(text)
            masked_decoded = mask(decoded)
            return masked_decoded if masked_decoded != decoded else text
        return masked
    changed = False

    def walk(value: Any) -> Any:
        nonlocal changed
        if isinstance(value, str):
            out = mask(value)
            changed = changed or out != value
            return out
        if isinstance(value, list):
            return [walk(item) for item in value]
        if isinstance(value, dict):
            return {walk(key): walk(item) for key, item in value.items()}
        return value

    rewritten = walk(document)
    return json.dumps(rewritten, ensure_ascii=False) if changed else text
