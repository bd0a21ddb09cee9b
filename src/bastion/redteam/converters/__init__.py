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
    Hex,
    Homoglyph,
    Leetspeak,
    Rot13,
    UnicodeTags,
    ZeroWidth,
)
from bastion.redteam.converters._text import (
    BestOfN,
    CharacterSpacing,
    CodeWrap,
    Completer,
    MarkdownWrap,
    Paraphrase,
    PayloadSplit,
    Translate,
)

__all__ = [
    "Base64",
    "BestOfN",
    "CharacterSpacing",
    "CodeWrap",
    "Completer",
    "Converter",
    "Hex",
    "Homoglyph",
    "Leetspeak",
    "MarkdownWrap",
    "Paraphrase",
    "PayloadSplit",
    "Rot13",
    "Translate",
    "UnicodeTags",
    "ZeroWidth",
]
