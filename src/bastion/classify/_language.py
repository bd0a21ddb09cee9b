"""Does the model read this text? A cheap check of script and English function words.

The shipped model was fine-tuned on English. A text mostly in another script, or in a Latin
script with almost no English function words, is "not covered": the embedded tier does not
pass it as safe on its own say-so (see ``EmbeddedClassifier``).
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[^\W\d_]+")
_CODE = re.compile(r"[(){}\[\];=<>:/\\$#@`|]")
_COMMON_TEXT = (
    "a about after again all also am an and any are as at be because been before being but by can "
    "could did do does doing don down each even every for from get give go going good got had has "
    "have having he her here him his how i if in into is it its just know like make me more most "
    "my no not now of off on once one only or other our out over please really said say see she "
    "should so some still such take tell than that the their them then there these they thing "
    "think this those through to too up us use very want was way we well were what when where "
    "which while who whom why will with without would you your yours hi hey ok okay thanks thank "
    "need help new time day people way write show explain give list find best "
)
COMMON = frozenset(_COMMON_TEXT.split())
MIN_WORDS = 4


def englishness(text: str) -> float:
    """Share of a text's words that are common English words (0 for a text with none)."""
    words = _WORD.findall(text.lower())
    if not words:
        return 0.0
    return sum(w in COMMON for w in words) / len(words)


def covered(text: str) -> tuple[bool, str]:
    """Whether the model reads ``text``; when not, a short reason for the verdict."""
    letters = [ch for ch in text if ch.isalpha()]
    latin = sum(ch.isascii() or "\u00c0" <= ch <= "\u024f" for ch in letters)
    if len(letters) - latin >= 4 and latin < 0.7 * len(letters):
        return False, "most letters are in a script other than Latin"
    if len(letters) < 12:
        return True, ""
    words = _WORD.findall(text.lower())
    if len(words) < MIN_WORDS or len(_CODE.findall(text)) > 0.03 * len(text):
        return True, ""
    if englishness(text) < 0.08:
        return False, "the text does not read as English"
    return True, ""
