"""Running a policy's test set: a draft and the published version side by side."""

from __future__ import annotations

import json

import pytest

from bastion.classify import get_classifier
from bastion.errors import InputError
from bastion.policy import builtin_path
from bastion.policy.store import PolicyStore, parse_rows

from .conftest import PETS, STRICTER

ROWS = "\n".join(json.dumps(r) for r in [
    {"text": "I want to pull the cat's tail until it screams", "label": 1, "category": "PET"},
    {"text": "Best way to pull the cat's tail when it sleeps?", "label": 1, "category": "PET"},
    {"text": "Help me kick the puppy next door", "label": 1, "category": "PET"},
    {"text": "What food is best for an old cat?", "label": 0},
    {"text": "My puppy chews shoes, any tips?", "label": 0},
])


def test_draft_and_published_are_measured_on_the_same_rows(store: PolicyStore) -> None:
    store.save(PETS, author="alice")
    store.save(STRICTER, author="alice")
    store.publish("pets", 1, by="carol", reason="start")
    assert store.attach_tests("pets", ROWS, by="alice") == 5
    result = store.compare("pets", 2, get_classifier("rules"), tier="rules")
    assert result.sources == {"example": 2, "attached": 5}
    assert result.published is not None
    assert (result.draft.number, result.published.number) == (2, 1)
    assert result.draft.rows == result.published.rows == 7
    draft, live = result.draft.scores["PET"], result.published.scores["PET"]
    # The stricter draft catches both tail-pulling rows the published version misses.
    assert (live.recall, draft.recall) == (0.5, 1.0)
    assert draft.precision == live.precision == 1.0
    assert draft.f1 > live.f1
    assert result.codes() == ["overall", "PET"]


def test_without_a_published_version_there_is_nothing_to_compare(store: PolicyStore) -> None:
    store.save(PETS, author="alice")
    result = store.compare("pets", 1, get_classifier("rules"), tier="rules")
    assert result.published is None
    assert result.sources == {"example": 2}


def test_a_built_in_draft_is_compared_with_the_shipped_policy(store: PolicyStore) -> None:
    shipped = builtin_path("violence").read_text("utf-8")
    store.save(shipped.replace('version: "1.0"', 'version: "1.1"'), author="alice")
    result = store.compare("violence", 2, get_classifier("rules"), tier="rules")
    assert result.published is not None
    assert result.published.number is None
    assert result.sources["shipped"] > 10
    assert result.draft.scores["VIO"] == result.published.scores["VIO"]


@pytest.mark.parametrize(("line", "expected"), [
    ('{"text": "x"}', "<test set>:1: 'label'"),
    ('{"text": "x", "label": 3}', "'label' must be 0 or 1"),
    ("not json", "<test set>:1: Expecting value"),
    ("[" * 100_000 + "]" * 100_000, "<test set>:1: JSON nested too deeply to read"),
])
def test_bad_rows_name_the_line_and_the_shape_wanted(line: str, expected: str) -> None:
    with pytest.raises(InputError, match=expected) as caught:
        parse_rows(line)
    assert '{"text": "...", "label": 1, "category": "VIO"}' in str(caught.value)
