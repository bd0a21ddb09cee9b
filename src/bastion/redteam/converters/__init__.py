"""Converters: rewrite a prompt (encoding, obfuscation, wrapping, augmentation); they stack.

Contract (:class:`~bastion.redteam.Converter`): ``convert(text, rng)`` draws all randomness
from the attempt's seeded ``rng`` and is safe to call from many tasks; converters that call
an attacker model set ``needs_attacker`` and override ``aconvert``, raising
:class:`~bastion.redteam.AttackerError` on failure (the attempt is then an error).

Register a new converter with one line in :mod:`bastion.redteam._builtin` or one entry point
in the ``bastion.redteam.converters`` group.
"""

from bastion.redteam._base import Converter
from bastion.redteam.converters._encoding import (
    Base64,
    Braille,
    Hex,
    Homoglyph,
    Leetspeak,
    Morse,
    Rot13,
    UnicodeTags,
    UpsideDown,
    ZeroWidth,
)
from bastion.redteam.converters._text import (
    BestOfN,
    CharacterSpacing,
    CodeWrap,
    Completer,
    Dilute,
    MarkdownWrap,
    Paraphrase,
    PayloadSplit,
    Translate,
    TurnedWords,
)

__all__ = [
    "Base64",
    "BestOfN",
    "Braille",
    "CharacterSpacing",
    "CodeWrap",
    "Completer",
    "Converter",
    "Dilute",
    "Hex",
    "Homoglyph",
    "Leetspeak",
    "MarkdownWrap",
    "Morse",
    "Paraphrase",
    "PayloadSplit",
    "Rot13",
    "Translate",
    "TurnedWords",
    "UnicodeTags",
    "UpsideDown",
    "ZeroWidth",
]
