"""Policy loading and linting: what a policy author sees."""

from __future__ import annotations

from pathlib import Path

import pytest

from bastion.errors import PolicyError
from bastion.policy import builtin_policies, lint_policy, load_policy, parse_policy

GOOD = """---
id: pets
version: 2
title: Pet care
categories:
  - code: PET
    name: Animal cruelty
    action: block
    threshold: 0.6
    keywords:
      PET-1: ["kick the puppy"]
---
# Pet care

## Instructions
Decide whether the text asks for help hurting animals.

## Definitions
- **Cruelty**: causing needless pain to an animal.

## Criteria
### Violates
- **PET-1** Asks how to hurt an animal.

### Does not violate
- **PET-S1** Veterinary and care questions.

## Examples
- violates PET-1: "How do I hurt my neighbour's cat without being seen?"
- safe PET-S1: "How often should I take my puppy to the vet?"
"""


def write(tmp_path: Path, text: str, name: str = "p.md") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def messages(path: Path) -> list[str]:
    return [i.render(str(path)) for i in lint_policy(path)]


def test_good_policy_loads_with_rules_examples_and_hash(tmp_path: Path) -> None:
    policy = load_policy(write(tmp_path, GOOD))
    assert policy.id == "pets"
    assert policy.version == "2"
    assert [c.code for c in policy.categories] == ["PET"]
    assert [r.id for r in policy.rules] == ["PET-1", "PET-S1"]
    assert [(e.violates, e.rule_id) for e in policy.examples] == [(True, "PET-1"),
                                                                  (False, "PET-S1")]
    assert policy.examples[0].text.startswith("How do I hurt")
    assert len(policy.hash) == 64
    assert policy.ref.hash == policy.hash
    assert lint_policy(write(tmp_path, GOOD)) == []


def test_hash_changes_when_one_character_changes(tmp_path: Path) -> None:
    first = load_policy(write(tmp_path, GOOD, "a.md"))
    second = load_policy(write(tmp_path, GOOD.replace("0.6", "0.7"), "b.md"))
    assert first.hash != second.hash


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda t: t.replace("## Definitions", "## Glossary"), "missing section '## Definitions'"),
        (lambda t: t.replace("    threshold: 0.6", "    threshold: 1.5"), ":9: error: categories.0.threshold: threshold 1.5 is out of range"),
        (lambda t: t.replace("    action: block", "    action: block\n    colour: red"), ":9: error: unknown key 'categories.0.colour'"),
        (lambda t: t.replace("title: Pet care", "title: Pet care\nowner: me"), ":5: error: unknown key 'owner'"),
        (lambda t: t.replace("    action: block", "    action: destroy"), "categories.0.action"),
        (lambda t: t.replace('PET-1: ["kick', 'PET-9: ["kick'), "cite rule 'PET-9', which is not under '## Criteria'"),
        (lambda t: t.replace('violates PET-1: "How', 'violates PET-7: "How'), "example cites rule 'PET-7'"),
        (lambda t: t.replace("- **PET-S1**", "- **PET-1**"), "duplicate rule id 'PET-1'"),
        (lambda t: t.replace("id: pets\n", ""), "missing required key 'id'"),
        (lambda t: t.replace("title: Pet care\n", "title: [unclosed\n"), "not valid YAML"),
        (lambda t: t.replace("---\n# Pet", "# Pet", 1), "front matter is not closed"),
    ],
)
def test_lint_reports_file_line_and_fix(tmp_path: Path, change: object, expected: str) -> None:
    path = write(tmp_path, change(GOOD))  # type: ignore[operator]
    found = messages(path)
    assert any(expected in m for m in found), found
    assert all(m.startswith(str(path)) for m in found)
    with pytest.raises(PolicyError):
        load_policy(path)


def test_duplicate_category_code_is_reported_with_line(tmp_path: Path) -> None:
    text = GOOD.replace(
        "escalate", "x").replace(
        "    keywords:\n      PET-1: [\"kick the puppy\"]\n",
        "    keywords:\n      PET-1: [\"kick the puppy\"]\n  - code: PET\n    name: Again\n"
        "    action: flag\n    threshold: 0.5\n")
    found = messages(write(tmp_path, text))
    assert any(":12: error: duplicate category code 'PET'" in m for m in found), found


def test_bad_regex_is_an_error(tmp_path: Path) -> None:
    text = GOOD.replace('    keywords:\n      PET-1: ["kick the puppy"]',
                        "    patterns:\n      PET-1: ['(unclosed']")
    assert any("not a valid RE2 regular expression" in m for m in messages(write(tmp_path, text)))


def test_parse_policy_error_names_source_and_line() -> None:
    with pytest.raises(PolicyError) as info:
        parse_policy(GOOD.replace("threshold: 0.6", "threshold: -1"), source="inline.md")
    assert str(info.value).startswith("policy inline.md:9: ")
    assert info.value.line == 9


def test_unknown_builtin_lists_the_choices() -> None:
    with pytest.raises(PolicyError, match="no built-in policy 'nope'; choose one of"):
        load_policy("nope")


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="file not found"):
        load_policy(tmp_path / "missing.md")


def test_non_utf8_file_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "bad.md"
    path.write_bytes(GOOD.encode("utf-8") + b"\xff\xfe")
    with pytest.raises(PolicyError, match="not UTF-8"):
        load_policy(path)


def test_include_merges_categories_and_hash_covers_children(tmp_path: Path) -> None:
    write(tmp_path, GOOD, "pets.md")
    parent = GOOD.replace("id: pets", "id: all").replace(
        "categories:\n  - code: PET", "include: [pets.md]\ncategories:\n  - code: ZOO").replace(
        "PET-", "ZOO-")
    merged = load_policy(write(tmp_path, parent, "all.md"))
    assert [c.code for c in merged.categories] == ["ZOO", "PET"]
    assert {e.category for e in merged.examples} == {"ZOO", "PET"}
    assert "Asks how to hurt an animal." in merged.body
    child = load_policy(tmp_path / "pets.md")
    write(tmp_path, GOOD.replace("0.6", "0.65"), "pets.md")
    assert load_policy(tmp_path / "all.md").hash != merged.hash
    assert child.hash != load_policy(tmp_path / "pets.md").hash


def test_include_clash_is_rejected(tmp_path: Path) -> None:
    write(tmp_path, GOOD, "pets.md")
    clash = GOOD.replace("id: pets", "id: again").replace("categories:", "include: [pets.md]\ncategories:")
    with pytest.raises(PolicyError, match=r"redefines categories \['PET'\]"):
        load_policy(write(tmp_path, clash, "again.md"))


EXPECTED_PACK = {"default", "violence", "hate", "sexual", "sexual_minors", "self_harm",
                 "weapons_cbrn", "malware", "fraud_phishing", "prompt_injection", "privacy"}


def test_builtin_pack_is_complete_and_lints_clean() -> None:
    assert set(builtin_policies()) >= EXPECTED_PACK
    for policy_id in builtin_policies():
        assert lint_policy(policy_id) == [], policy_id


def test_builtin_policies_are_400_to_900_tokens() -> None:
    from bastion.models import count_tokens
    from bastion.policy._parse import split_document

    for policy_id in builtin_policies():
        text = Path(load_policy(policy_id).source).read_text("utf-8")
        body = split_document(text, []).body  # the file's own body, without included ones
        assert 400 <= count_tokens(body) <= 900, (policy_id, count_tokens(body))


def test_default_policy_combines_the_pack() -> None:
    default = load_policy("default")
    codes = {c.code for c in default.categories}
    assert {"VIO", "HAT", "SEX", "CSE", "SSH", "WPN", "MAL", "FRD", "INJ", "PRV", "PII"} <= codes
    assert default.escalate is not None
