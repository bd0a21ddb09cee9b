"""A per-request vault: mask values before the upstream sees them, restore them after.

Placeholders look like ``[EMAIL_1]``; the same value gets the same placeholder within one
request. The vault lives only as long as the request and is never logged or stored. Values the
*model* generates are masked with a prefixed vault (``[REDACTED_EMAIL_1]``) that is never
restored, so they cannot be confused with the caller's own placeholders.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import get_args

from bastion.policy._model import ValueKind
from bastion.redact._detect import Detectors

#: A placeholder the vault writes: a kind of value the detectors find, and its number.
_PLACEHOLDER = re.compile(r"\[(?:" + "|".join(get_args(ValueKind)) + r")_\d{1,4}\]")
_PARTIAL = re.compile(r"\[[A-Z_]{0,12}\d{0,4}$")
#: What a text must hold to carry a piece of a value split across texts.
_VALUE_CHARS = re.compile(r"[0-9@\uff20\ufe6b]")
#: Characters read on each side of the boundary between two texts for a value split across
#: them (the longest value split so, an IBAN with spaces, is 42).
SPLIT_REACH = 64
#: A text that opens with the rest of an address cut at its at sign ("@example.com ...").
_AT_DOMAIN = re.compile(r"\s*[@\uff20\ufe6b][A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*"
                        r"\.[A-Za-z]{2,24}\b")
#: The last word of a text that looks like an address's local part, not a plain word: it
#: has a dot, underscore, plus sign or digit in it ("john.smith", "jsmith42"); up to two plain
#: words or placeholders may follow it ("john.smith please").
_LOCAL_PART = re.compile(r"(?<![\w.+-])([\w.+-]*[._+0-9][\w.+-]*)"
                         r"(?:\s+(?:[A-Za-z]{1,12}|\[[A-Z_]{1,24}_\d{1,4}\])){0,2}\s*$")
#: The end of a text cut inside an address's local part, at a dot, underscore, plus sign or
#: dash ("mail john." before "smith@example.com").
_LOCAL_HEAD = re.compile(r"(?<![\w.+-])([\w.+-]*\w[._+-])$")
#: How many texts before an address's domain its local part is looked for in.
LOCAL_PART_REACH = 3


class Vault:
    """Masks entities in texts and restores placeholders in answers.

    Lifetime: one request. Not thread-safe (a request is one task).
    """

    def __init__(self, detectors: Detectors, *, prefix: str = "") -> None:
        self.detectors = detectors
        self.prefix = prefix
        self._by_value: dict[str, str] = {}
        self._by_placeholder: dict[str, str] = {}

    def __len__(self) -> int:
        return len(self._by_placeholder)

    def mask(self, text: str) -> str:
        """``text`` with every detected entity replaced by its placeholder."""
        parts: list[str] = []
        at = 0
        for entity in self.detectors.find(text):
            value = text[entity.start:entity.end]
            parts.extend((text[at:entity.start], self.placeholder(entity.kind, value)))
            at = entity.end
        parts.append(text[at:])
        return "".join(parts)

    def mask_split(self, texts: list[str]) -> list[str]:
        """``texts`` (each already masked alone, in the order the upstream reads them) with a
        value split between neighbours masked too: a card sent as ``4111 1111`` at the end of
        one message and ``1111 1111`` at the start of the next reached the upstream, which
        reads the conversation whole. A value may run on through several short texts (``4111``,
        ``1111``, ``1111 1111``): each boundary is read from :data:`SPLIT_REACH` characters
        before it to as many after it, across as many texts as that takes, with a space at each
        boundary and then with none (``john.smith`` / ``@example.com``). Each piece gets a
        placeholder of the value's kind."""
        out = list(texts)
        domains = [i for i, text in enumerate(texts) if _AT_DOMAIN.match(text)]
        # Empty texts carry no part of a value, and read through they cost a seam a step
        # each: thousands of empty messages held the gateway for a minute (a black-box pass).
        self._mask_seams(out, [i for i, text in enumerate(out) if text], (" ", ""))
        # and once more with only the texts that begin or end with a digit or an at sign: a
        # card sent half before and half after a "go on" turn (found in a black-box pass)
        bearing = [i for i, text in enumerate(out)
                   if _VALUE_CHARS.search((edge := text.strip())[:1] + edge[-1:])]
        if 1 < len(bearing) < len(out):
            self._mask_seams(out, bearing, (" ",))
        for i in domains:
            self._mask_local_part(out, i)
        # an address cut inside its local part: the next text opens with the rest of it, which
        # was masked alone ("mail john." / "smith@example.com")
        opening = f"[{self.prefix}EMAIL_"
        for i in range(1, len(out)):
            head = _LOCAL_HEAD.search(out[i - 1]) if out[i].startswith(opening) else None
            if head is not None:
                self._mask_email(out, i - 1, head)
        return out

    def _mask_email(self, out: list[str], index: int, found: re.Match[str]) -> None:
        """Mask, in place, the part of an address ``found`` (its first group) in
        ``out[index]``."""
        start, end = found.span(1)
        out[index] = out[index][:start] + self.placeholder("EMAIL", found.group(1)) \
            + out[index][end:]

    def _mask_local_part(self, out: list[str], domain: int) -> None:
        """Mask, in place, the local part of an address whose domain opens ``out[domain]``:
        the last address-like word of the few texts before it. With a turn between the halves
        ("john.smith", "go on", "@example.com") the seams read "on@example.com"; the upstream
        can still put "john.smith" back in front of the domain."""
        for index in range(domain - 1, max(-1, domain - 1 - LOCAL_PART_REACH), -1):
            local = _LOCAL_PART.search(out[index])
            if local is not None:
                self._mask_email(out, index, local)
                return

    def _mask_seams(self, out: list[str], indexes: list[int], joints: tuple[str, ...]) -> None:
        """Mask, in place, the values split between the texts ``out[i]`` for ``i`` in
        ``indexes``, read in that order as neighbours."""
        kept = [out[i] for i in indexes]
        for joint in joints:
            for first in range(len(kept) - 1):
                self._mask_seam(kept, first, joint)
        for i, text in zip(indexes, kept, strict=True):
            out[i] = text

    def _mask_seam(self, out: list[str], first: int, joint: str) -> None:
        """Mask, in place, the values that run from ``out[first]`` into the texts after it."""
        # (offset in the seam, text index, start, end) of each piece the seam is made of
        pieces: list[tuple[int, int, int, int]] = []
        seam = ""
        limit = 0
        for index in range(first, len(out)):
            text = out[index]
            if index == first:
                start, end = max(0, len(text) - SPLIT_REACH), len(text)
                limit = end - start + SPLIT_REACH  # the seam's length at most
            else:
                seam += joint
                start, end = 0, max(0, min(len(text), limit - len(seam)))
            pieces.append((len(seam), index, start, end))
            seam += text[start:end]
            if index > first and end < len(text):  # the seam ends in this text
                break
        cuts: list[tuple[int, int, int, str]] = []  # (text index, start, end, placeholder)
        for entity in self.detectors.find(seam):  # in order, none overlapping
            spanned = [p for p in pieces if entity.start < p[0] + p[3] - p[2]
                       and entity.end > p[0]]
            # a value across this seam (later seams are read from their own first text)
            if len(spanned) < 2 or spanned[0][1] != first:
                continue
            for at, index, start, end in spanned:  # placeholders numbered left to right
                lo = start + max(entity.start - at, 0)
                hi = start + min(entity.end - at, end - start)
                cuts.append((index, lo, hi, self.placeholder(entity.kind, out[index][lo:hi])))
        for index, lo, hi, placeholder in sorted(cuts, reverse=True):  # right to left
            out[index] = out[index][:lo] + placeholder + out[index][hi:]

    def restore(self, text: str) -> str:
        """``text`` with every placeholder this vault made replaced by its value."""
        if not self._by_placeholder:
            return text
        return _PLACEHOLDER.sub(lambda m: self._by_placeholder.get(m.group(), m.group()), text)

    def placeholder(self, kind: str, value: str) -> str:
        """The placeholder of a value (the same one each time within this vault)."""
        found = self._by_value.get(value)
        if found is None:
            label = f"[{self.prefix}{kind}_"
            count = sum(p.startswith(label) for p in self._by_placeholder) + 1
            found = f"{label}{count}]"
            self._by_value[value] = found
            self._by_placeholder[found] = value
        return found


class StreamRestorer:
    """Restores placeholders in streamed text, holding back a placeholder split across chunks.

    Feed each chunk's text to :meth:`feed` and send what it returns; call :meth:`finish` at the
    end of the stream for whatever is still held.
    """

    def __init__(self, vault: Vault) -> None:
        self.vault = vault
        self._held = ""

    def feed(self, text: str) -> str:
        """The restorable part of the text seen so far."""
        text = self._held + text
        partial = _PARTIAL.search(text[-20:])
        cut = len(text) - len(partial.group()) if partial else len(text)
        self._held = text[cut:]
        return self.vault.restore(text[:cut])

    def finish(self) -> str:
        """Whatever was held back, restored where possible."""
        text, self._held = self._held, ""
        return self.vault.restore(text)


class StreamMasker:
    """Masks entities in a growing text that leaves in slices (a stream's released text).

    Each call gets the whole text received so far and the slice ``[start, end)`` about to
    leave. An entity is replaced by its placeholder in the slice where it starts and dropped
    from later slices, so a value split across chunks never leaves in pieces. Text after
    ``end`` that is already received is scanned too, so an entity still growing is seen; the
    stream guard's hold-back tail keeps recent text from leaving before that.

    Args:
        vault: the vault whose placeholders are used (never restored).
        lookback: how far before ``start`` to scan for an entity that began earlier.
    """

    def __init__(self, vault: Vault, lookback: int = 8192) -> None:
        self.vault = vault
        self.lookback = lookback

    def slice(self, text: str, start: int, end: int, *,
              decode: Callable[[str], tuple[str, list[int]]] | None = None) -> str:
        """The masked form of ``text[start:end]``. With ``decode`` (text -> its decoded
        form and where each decoded character starts, e.g. JSON escapes), entities are found
        in the decoded text and the raw text they came from is replaced: a tool call's
        arguments spell ``bob\\u0040example.com`` for an address any client decodes."""
        base = max(0, start - self.lookback)
        seen, offsets = text[base:], None
        if decode is not None and "\\" in seen:
            seen, offsets = decode(seen)
        parts: list[str] = []
        at = start
        for entity in self.vault.detectors.find(seen):
            first, last = ((entity.start, entity.end) if offsets is None
                           else (offsets[entity.start], offsets[entity.end]))
            first, last = first + base, last + base
            if last <= start or first >= end:
                continue
            if first >= start:
                parts.extend((text[at:first], self.vault.placeholder(
                    entity.kind, seen[entity.start:entity.end])))
            at = min(last, end)
        parts.append(text[at:end])
        return "".join(parts)
