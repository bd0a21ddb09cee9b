"""Rows of our own text: the hand-written prompt files, the policy pack's examples, and prose
paragraphs of Python's documentation.

Our violating prompts (``scripts/violating_prompts.txt``) state harmful intent without the
trigger words :data:`._rows.KEYWORDS` looks for, and the benign file holds look-alikes
(reporting, defence, support, history, fiction), so the category heads learn the request
rather than the vocabulary. The prompt files' ``template:`` lines are filled from their
``slot: item`` lines, a share of fillings chosen by hash, so a build is deterministic.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from bastion.training._sources import HEADS, bucket
from bastion.training.static._rows import Row, benign_row, harmful_row, injection_row

BENIGN_FILE = "benign_prompts.txt"
VIOLATING_FILE = "violating_prompts.txt"
#: Base weight of our own hand-written violating prompts (scripts/violating_prompts.txt).
OWN_VIOLATING_WEIGHT = 2.0
#: Share of the benign template x item pairs used (the rest would mostly repeat them).
TEMPLATE_SHARE = 0.5
TEMPLATE_SLOTS = ("task", "thing", "sentence", "persona", "behaviour", "harm", "threat",
                  "when", "condition", "topic")
#: Prose paragraphs of Python's own documentation (:func:`load_python_docs`): longest and
#: shortest kept, and what marks a paragraph as code rather than prose.
DOC_CHARS = (80, 1200)
_CODE_MARK = re.compile(r"[{}<>=\[\]]|>>>|\*\*")

PromptLines = tuple[list[tuple[str, str]], list[tuple[str, str]], dict[str, list[str]]]


def load_own_benign(scripts: Path) -> list[Row]:
    """Our own benign prompts (``scripts/benign_prompts.txt``): the plain lines, and about
    half of the template fillings its ``template:`` lines describe (chosen by hash)."""
    plain, templates, slots = read_prompt_file(scripts / BENIGN_FILE)
    rows = [benign_row(t, "bastion", BENIGN_FILE, weight=2.0) for _, t in plain]
    rows += [benign_row(t, "bastion-templates", BENIGN_FILE)
             for _, template in templates for t in expand(template, slots)]
    return rows


def load_own_violating(scripts: Path) -> list[Row]:
    """Our own violating prompts (``scripts/violating_prompts.txt``), ``<head>: text``
    lines."""
    plain, templates, slots = read_prompt_file(scripts / VIOLATING_FILE)
    pairs = plain + [(h, t) for h, template in templates for t in expand(template, slots, 1.0)]
    rows = []
    for head, text in pairs:
        if head == "injection":
            rows.append(injection_row(text, "bastion", VIOLATING_FILE, weight=2.0))
        else:
            rows.append(harmful_row(text, "bastion", VIOLATING_FILE, (head,),
                                    weight=OWN_VIOLATING_WEIGHT, categorised=False))
    return rows


def read_prompt_file(path: Path) -> PromptLines:
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


def expand(template: str, slots: dict[str, list[str]], share: float = TEMPLATE_SHARE
           ) -> list[str]:
    """A share of the template's fillings (chosen by hash): items of its first slot, with
    the items of any further slot picked by hash."""
    names = [k for k in TEMPLATE_SLOTS if "{" + k + "}" in template]
    out = []
    for item in slots[names[0]]:
        text = template.replace("{" + names[0] + "}", item)
        for other in names[1:]:
            pick = slots[other][int(bucket(text + other) * len(slots[other]))]
            text = text.replace("{" + other + "}", pick)
        text = text[0].upper() + text[1:]
        if bucket(text) < share:
            out.append(text)
    return out


def load_python_docs() -> list[Row]:
    """Paragraphs of prose from Python's language reference as the interpreter ships it
    (``pydoc_data.topics``; PSF-2.0), benign, split by topic (all paragraphs of a topic on
    one side). Heads trained on short queries and social-media text read long expository
    prose as harm: the office prose the blind set's dilution transforms wrap around a
    request was flagged alone (harm 0.61), and 0.185 of 600 such paragraphs. The texts are
    those of the Python that runs the build (3.11 built the shipped heads)."""
    from pydoc_data.topics import topics  # noqa: PLC0415 - read only by this build

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
    from bastion.policy import builtin_policies, load_policy  # noqa: PLC0415 - the pack loads only when a build needs it

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
