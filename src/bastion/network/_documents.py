"""The documents members accept before joining an engagement, each with a version.

Bump ``version`` when the text changes: members must accept the new version before they can
join another engagement (earlier acceptances stay recorded).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Document:
    """An agreement a member accepts: a name, a version and its text."""

    name: str
    version: str
    title: str
    text: str


DOCUMENTS: tuple[Document, ...] = (
    Document("nda", "2026-11", "Non-disclosure agreement", (
        "You will not disclose findings, transcripts, model outputs, scope documents or keys "
        "outside the programme until the programme owner publishes or releases them. You "
        "report every vulnerability only through this platform. You delete local copies of "
        "transcripts when your engagement ends.")),
    Document("roe", "2026-11", "Rules of engagement", (
        "Attack only the models and routes in an engagement's scope, within its time window "
        "and quotas. Categories marked out of scope are off limits even when a model seems "
        "willing. Never use real personal data, never target other people or services, and "
        "stop and report at once if you reach data or systems outside scope. Your traffic is "
        "audited; out-of-scope violations count against your account like anyone's.")),
)
"""Every document a member must accept, current versions."""


def document(name: str) -> Document:
    """The current version of the document called ``name``.

    Raises:
        KeyError: no such document.
    """
    for doc in DOCUMENTS:
        if doc.name == name:
            return doc
    raise KeyError(name)
