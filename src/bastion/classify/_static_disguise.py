"""What a text says under its disguise, read before the static heads score it: look-alike or
full-width letters folded into Latin ones, text spelt in tag characters or variation
selectors, URL escapes, and decoded payloads (:func:`hidden_readings`).

The heads read words, so a disguised request was noise to them; this module finds the
readings, and :class:`~bastion.classify._static.StaticClassifier` scores them beside the text
(or in its place, when the text is all disguise). Apart from the classifier because it is
text handling, not scoring: it leans on :mod:`bastion.classify._normalize` and knows nothing
of heads or windows.
"""

from __future__ import annotations

import re
import unicodedata

from bastion.classify._normalize import (
    LONE_SURROGATE,
    REMEMBERED_CHARS,
    lookalikes,
    normalize,
    runs_of,
)

#: Readings of a text and whether it is all disguise (:func:`hidden_readings`).
Hidden = tuple[list[tuple[str, int, int]], bool]
#: What :func:`~bastion.classify._normalize.normalize` folds into letters a reader sees as
#: Latin ones: look-alike letters and full-width forms.
_FOLD_SIGNALS = frozenset({"homoglyphs", "compatibility_forms"})
#: Of a folded reading's letters, the share that must be ASCII for it to be read: a request
#: spelt in look-alikes folds into English, while Russian folds into a mix of scripts (its
#: Cyrillic 'a', 'e', 'p' are look-alikes) that reads as noise, not as what was sent.
_LATIN_SHARE = 0.8
#: The readings :func:`~bastion.classify._normalize.normalize` gives beside the folded text
#: that a reader sees: tag characters and variation selectors spelling text, URL escapes.
_READ_SEGMENTS = frozenset({"tags", "selectors", "url"})
#: The share of a text one decoded payload must span for the text to be all disguise.
_COVER = 0.9
#: The fewest words a reading holds: a flag emoji spells its region in tag characters
#: ('gbsct'), a lone tag character is one letter; a request hidden that way is a sentence.
_READ_WORDS = 2


#: Characters :func:`~bastion.classify._normalize.normalize` reads as others that NFKC keeps:
#: squared and circled capitals, regional indicators, small capitals, Braille, tag characters
#: and variation selectors.
_SYMBOLS = re.compile("[\U0001F130-\U0001F189\U0001F1E6-\U0001F1FF\u1D00-\u1D2B"
                      "\u2800-\u28FF\U000E0000-\U000E01EF\uFE00-\uFE0F]")


def _may_fold(text: str) -> bool:
    """Whether ``normalize`` may fold or decode something in ``text`` (not ASCII) that the
    text as sent does not say: a form NFKC changes, a look-alike letter, or a symbol of
    :data:`_SYMBOLS`. Three passes in C over the text: normalize reads a text in Python a
    character at a time (1.4 ms for 5,000 characters of French), which a text of accents,
    curly quotes and emoji, most non-ASCII text, need not pay."""
    return (not unicodedata.is_normalized("NFKC", text) or _SYMBOLS.search(text) is not None
            or not lookalikes().isdisjoint(text))


def hidden_readings(text: str, depth: int = 2) -> Hidden:
    """What ``text`` says under its disguise, each with the span it stands for, and whether
    the text as sent is all disguise (then its readings are read instead of it): the text
    folded from look-alike letters and full-width forms into Latin ones, text spelt in tag
    characters or variation selectors, URL-decoded text, and decoded payloads (base64, hex,
    character codes, ...: :func:`~bastion.classify._normalize.runs_of`), those decoded
    once more (double base64). Nothing for a text that hides nothing: one RE2 scan for an
    ASCII text without ``%``, most of them.

    The static heads read words: full-width text or a request in tag characters was noise
    to them (the fast profile caught 1 in 10 such blind harmful requests, against 9 in 10
    sent plain), though the rules tier beside them already read these forms. And noise is
    what they flag: a benign question in base64 was read as harmful one time in four, so a
    text that is all disguise (folded, or one payload covering it) is read only as it
    decodes, as the contextual tier reads a text written in escapes.
    """
    # RE2 cannot take a lone surrogate; U+FFFD keeps the offsets (as normalize reads it).
    # Payloads only in a text normalize remembers them for: in a longer one, looking again
    # cost the fast profile 1.8 ms a 5,000-character document (the rules tier's look aside).
    runs = runs_of(text if text.isascii() else LONE_SURROGATE.sub("\ufffd", text)) \
        if len(text) <= REMEMBERED_CHARS else ()
    out: list[tuple[str, int, int]] = []
    whole = False
    if "%" in text or (not text.isascii() and _may_fold(text)):
        normalized = normalize(text)
        folded = normalized.text
        letters = [ch for ch in folded if ch.isalpha()]
        if normalized.signals & _FOLD_SIGNALS and letters and (
                sum(ch.isascii() for ch in letters) >= _LATIN_SHARE * len(letters)):
            out.append((folded, 0, len(text)))
            whole = True
        out += [(segment.text, *segment.span(0, len(segment.text)))
                for segment in normalized.segments[1:] if segment.source in _READ_SEGMENTS]
    for _source, plain, start, end in runs:
        covers = end - start >= _COVER * len(text.strip())
        again, inner = hidden_readings(plain, depth - 1) if depth > 1 else ([], False)
        if not inner:  # a payload that decodes to another payload is read at the bottom
            out.append((plain, start, end))
        out += [(reading, start, end) for reading, _, _ in again]
        whole = whole or covers
    out = [(reading, a, b) for reading, a, b in out if len(reading.split()) >= _READ_WORDS]
    return out, whole and bool(out)

