"""Classification: one interface, many tiers, one registry."""

from bastion.classify._api import (
    DEFAULT_TIER,
    FAST_TIER,
    aclassify,
    classify,
    get_classifier,
    is_profile,
)
from bastion.classify._base import Classifier, unreadable_texts
from bastion.classify._cascade import CascadeClassifier, VerdictCache
from bastion.classify._deadline import classify_within
from bastion.classify._embed import embed, embedder_id, embedder_vocabulary, embedder_words
from bastion.classify._language import reads
from bastion.classify._normalize import (
    LONE_SURROGATE,
    SIGNALS,
    Normalized,
    Segment,
    braille,
    decode_runs,
    morse,
    normalize,
    shift_letters,
    unescape,
    unescape_spans,
    url_decoded,
)
from bastion.classify._registry import GROUP, available, create, register, tier_class
from bastion.classify._variants import hidden_payloads, json_reading, segment, upside_down
from bastion.classify._verdict import (
    CategoryResult,
    Kind,
    Span,
    Verdict,
    decide,
    error_verdict,
)
from bastion.classify._window import windows

__all__ = [
    "DEFAULT_TIER",
    "FAST_TIER",
    "GROUP",
    "LONE_SURROGATE",
    "SIGNALS",
    "CascadeClassifier",
    "CategoryResult",
    "Classifier",
    "Kind",
    "Normalized",
    "Segment",
    "Span",
    "Verdict",
    "VerdictCache",
    "aclassify",
    "available",
    "braille",
    "classify",
    "classify_within",
    "create",
    "decide",
    "decode_runs",
    "embed",
    "embedder_id",
    "embedder_vocabulary",
    "embedder_words",
    "error_verdict",
    "get_classifier",
    "hidden_payloads",
    "is_profile",
    "json_reading",
    "morse",
    "normalize",
    "reads",
    "register",
    "segment",
    "shift_letters",
    "tier_class",
    "unescape",
    "unescape_spans",
    "unreadable_texts",
    "upside_down",
    "url_decoded",
    "windows",
]
