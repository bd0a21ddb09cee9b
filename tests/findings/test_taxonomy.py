"""Findings are filed under the ids of bastion.taxonomy: canonical OWASP ids, ATLAS names."""

from __future__ import annotations

import pytest

from bastion.errors import InputError

from .conftest import submission


def test_submission_is_filed_under_canonical_ids_and_current_names(store) -> None:  # type: ignore[no-untyped-def]
    item = store.submit(submission(owasp="llm07", atlas="AML.T0053"), "alice")
    assert item.owasp == "LLM07:2025"
    assert (item.atlas, item.atlas_name) == ("AML.T0053", "AI Agent Tool Invocation")


def test_submission_with_unknown_ids_is_refused(store) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError, match=r"AML\.T0999"):
        store.submit(submission(atlas="AML.T0999"), "alice")
    with pytest.raises(InputError, match=r"unknown OWASP LLM Top 10 id 'LLM11'"):
        store.submit(submission(owasp="LLM11"), "alice")
    assert store.listing().items == ()
