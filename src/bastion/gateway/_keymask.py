"""An answer's keys that hold data, masked as values are.

An answer's objects are read key by key (``_walk.object_keys``), and a key that holds data
(a card number, an address) is read as text; masking rewrote values only, so such a key
reached the client as the model wrote it (issue 8). A key is renamed in place, order kept;
a client reading the object by its keys sees the placeholder where the value was.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bastion.gateway._extract import named_key
from bastion.redact import Vault


def mask_answer_keys(value: Any, mask: Vault | None, restore: Vault | None) -> int:
    """:func:`mask_keys` with what masks a value: ``mask`` (the model's values) and then
    ``restore`` (the caller's own values, from their placeholders), either one optional.

    Raises:
        ValueError: two keys of one object would get the same name.
    """
    def rename(key: str) -> str:
        key = mask.mask(key) if mask is not None else key
        return restore.restore(key) if restore is not None else key

    return mask_keys(value, rename)


def mask_keys(value: Any, mask: Callable[[str], str]) -> int:
    """Rename, in place and in order, every key inside ``value`` that ``mask`` changes (an
    answer's object whose keys are card numbers or addresses); the number renamed. Only
    keys that may hold data are handed to ``mask`` (see :func:`_may_hold_data`): every chunk
    of every stream passes here.

    Raises:
        ValueError: two keys of one object would get the same name.
    """
    renamed = 0
    if isinstance(value, list):
        for item in value:
            renamed += mask_keys(item, mask)
    elif isinstance(value, dict):
        for item in value.values():
            renamed += mask_keys(item, mask)
        names = {key: mask(key) if isinstance(key, str) and _may_hold_data(key) else key
                 for key in value}
        changed = sum(old != new for old, new in names.items())
        if changed:
            if len(set(names.values())) < len(names):
                raise ValueError("two keys of one object would be masked to one name")
            items = list(value.items())
            value.clear()
            value.update((names[key], item) for key, item in items)
        renamed += changed
    return renamed


def _may_hold_data(key: str) -> bool:
    """False for a key the detectors would find nothing in: letters and punctuation that
    name a field (the detectors look for digits, addresses and words that are no name)."""
    return not key.isascii() or any(c.isdigit() or c == "@" for c in key) \
        or not named_key(key)
