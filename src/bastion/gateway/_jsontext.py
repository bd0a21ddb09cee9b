"""Tool-call arguments as a model and a client read them: JSON text, decoded.

Arguments travel as a JSON string. Read raw, ``\\u0070ipe \\u0062omb`` hides words from the
keyword rules and the redaction detectors (``bob\\u0040example.com``), and JSON punctuation
around ordinary values (``{"city": "Z\\u00fcrich"}``) made the contextual model flag benign
calls. The client decodes the JSON, so the gateway reads what it decodes to, and masks
values in their decoded form.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable, Iterator, Sequence
from typing import Any

from bastion.classify import json_reading, unescape
from bastion.gateway._links import read_links
from bastion.redact import Vault


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
    decoded. Markdown links read as the text they show, and the words of links after it
    (``_links.read_links``)."""
    found = json_reading(text)
    if found is None:
        found = unescape(text) if arguments else text
    return read_links(found)


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


def mask_texts(texts: Sequence[str], vault: Vault, groups: Sequence[Hashable | None]) -> list[str]:
    """``texts`` with what ``vault`` finds masked: each alone (:func:`mask_document`), then a
    value split between neighbours (``Vault.mask_split``). Texts of one group (not ``None``)
    are neighbours in the order given, as a reader meets them: a request's texts, a choice of
    an answer. A JSON document (tool-call arguments) takes part as its string values, each a
    text of its own: a card number begun at the end of the content and ended in the first
    argument's value ('Paying with 4111 1111', ``{"rest": "1111 1111"}``) reached the client
    whole, each field masked alone (issue 8). A text of group ``None`` (an identifier: a
    role, an id) is masked alone, never read as part of a text around it."""
    out = [mask_document(text, vault.mask) for text in texts]
    for group in dict.fromkeys(g for g in groups if g is not None):
        members = [i for i, g in enumerate(groups) if g == group]
        documents = [_document(out[i]) for i in members]
        values = [[out[i]] if document is None else list(_values(document))
                  for i, document in zip(members, documents, strict=True)]
        masked = iter(vault.mask_split([value for mine in values for value in mine]))
        for i, document, mine in zip(members, documents, values, strict=True):
            again = [next(masked) for _ in mine]
            if again != mine:
                out[i] = again[0] if document is None else _dump(_with(document, iter(again)))
    return out


def _values(value: Any) -> Iterator[str]:
    """The string values of a document read by :func:`_document`, in order (not its keys)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, _Object):
        for _, item in value:
            yield from _values(item)
    elif isinstance(value, list):
        for item in value:
            yield from _values(item)


def _with(value: Any, values: Iterator[str]) -> Any:
    """The document ``value`` with its string values (see :func:`_values`) taken in order
    from ``values``."""
    if isinstance(value, str):
        return next(values)
    if isinstance(value, _Object):
        return _Object((key, _with(item, values)) for key, item in value)
    if isinstance(value, list):
        return [_with(item, values) for item in value]
    return value
