"""The policy store: what an editor sees when saving, diffing, publishing and rolling back."""

from __future__ import annotations

import pytest

from bastion.errors import InputError, PolicyLintError
from bastion.monitor import AuditLog
from bastion.policy import builtin_path
from bastion.policy.store import PolicyStore, parse_version

from .conftest import PETS, STRICTER


def test_save_numbers_versions_and_keeps_author_message_and_hash(store: PolicyStore) -> None:
    first, warnings = store.save(PETS, author="alice", message="first cut")
    second, _ = store.save(STRICTER, author="bob", message="tail pulling too")
    assert (first.number, second.number) == (1, 2)
    assert warnings == []
    assert [v.number for v in store.versions("pets")] == [2, 1]
    latest = store.version("pets", 2)
    assert (latest.author, latest.message, latest.state) == ("bob", "tail pulling too", "draft")
    assert latest.content == STRICTER
    assert latest.content_hash != first.content_hash


def test_saving_the_same_text_again_adds_no_version(store: PolicyStore) -> None:
    store.save(PETS, author="alice")
    again, _ = store.save(PETS, author="alice")
    assert again.number == 1
    assert len(store.versions("pets")) == 1


def test_lint_errors_refuse_the_save_with_every_message(store: PolicyStore) -> None:
    broken = PETS.replace("    threshold: 0.5\n", "").replace("- **PET-1**", "- **PET1**")
    with pytest.raises(PolicyLintError) as caught:
        store.save(broken, author="alice")
    messages = [i.message for i in caught.value.issues if i.severity == "error"]
    assert any("missing required key 'categories.0.threshold'" in m for m in messages)
    assert "threshold" in str(caught.value)
    assert store.versions("pets") == []


def test_warnings_are_kept_and_returned(store: PolicyStore) -> None:
    text = PETS.replace("## Examples\n", "## Examples\n- an unlabelled bullet\n")
    version, warnings = store.save(text, author="alice")
    assert version.number == 1
    assert [w.severity for w in warnings] == ["warning"]
    assert "not labelled" in warnings[0].message


def test_text_naming_another_policy_is_refused(store: PolicyStore) -> None:
    with pytest.raises(InputError, match="keep 'id: hats'"):
        store.save(PETS, author="alice", policy_id="hats")


def test_text_may_not_include_files(store: PolicyStore) -> None:
    text = PETS.replace("title: Pet care\n", "title: Pet care\ninclude: [secrets.md]\n")
    with pytest.raises(PolicyLintError, match="built-in policies only"):
        store.save(text, author="alice")


def test_diff_is_a_unified_diff_of_two_versions(store: PolicyStore) -> None:
    store.save(PETS, author="alice")
    store.save(STRICTER, author="alice")
    diff = store.diff("pets", 1, 2)
    assert diff.startswith("--- pets v1\n+++ pets v2\n")
    assert "-      PET-1: [\"kick the puppy\"]" in diff
    assert "+      PET-1: [\"kick the puppy\", \"pull the cat's tail\"]" in diff
    assert store.diff("pets", 2, 2) == ""


def test_unknown_version_says_which_exist(store: PolicyStore) -> None:
    store.save(PETS, author="alice")
    with pytest.raises(InputError, match="has no version 7; it has versions 1 to 1"):
        store.version("pets", 7)


def test_publish_and_roll_back_are_audited_with_who_and_why(store: PolicyStore) -> None:
    store.save(PETS, author="alice")
    store.save(STRICTER, author="alice")
    head = store.publish("pets", 2, by="carol", reason="tail pulling reported")
    assert (head.number, head.serial, head.published_by) == (2, 1, "carol")
    assert store.published("pets") == store.version("pets", 2)
    back = store.publish("pets", 1, by="dave", reason="too many false positives")
    assert (back.number, back.serial) == (1, 2)
    assert store.heads()["pets"].number == 1
    assert store.version("pets", 2).state == "published"
    events = [e for e in AuditLog(store.sessions).events() if e["type"] == "policy.published"]
    assert [(e["version"], e["by"], e["reason"], e["rollback"]) for e in events] == [
        (2, "carol", "tail pulling reported", False),
        (1, "dave", "too many false positives", True)]
    assert AuditLog(store.sessions).verify().ok


def test_publish_needs_a_reason(store: PolicyStore) -> None:
    store.save(PETS, author="alice")
    with pytest.raises(InputError, match="needs a reason"):
        store.publish("pets", 1, by="carol", reason="  ")
    assert store.published("pets") is None


def test_first_edit_of_a_built_in_keeps_the_shipped_text_as_version_1(
        store: PolicyStore) -> None:
    shipped = builtin_path("violence").read_text("utf-8")
    edited = shipped.replace('version: "1.0"', 'version: "1.1"')
    assert edited != shipped
    version, _ = store.save(edited, author="alice", policy_id="violence")
    assert version.number == 2
    first = store.version("violence", 1)
    assert (first.content, first.author) == (shipped, "bastion")
    assert parse_version(version).version == "1.1"


def test_policies_lists_versions_and_the_published_one(store: PolicyStore) -> None:
    store.save(PETS, author="alice")
    store.save(STRICTER, author="alice")
    store.publish("pets", 1, by="carol", reason="start")
    [summary] = store.policies()
    assert (summary.policy_id, summary.versions, summary.latest, summary.published) == (
        "pets", 2, 2, 1)
