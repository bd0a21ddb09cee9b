"""Findings: reported vulnerabilities, their lifecycle, dedupe, severity and regression probes.

::

    from bastion.findings import FindingStore, parse_submission
    store = FindingStore(open_store(url))
    item = store.submit(parse_submission(data), reporter="alice")
    store.transition(item.id, "triaging", actor="tess", reason="picked up")
"""

from bastion.findings._convert import ATTACHMENT_TYPES, MAX_ATTACHMENT_BYTES
from bastion.findings._dedupe import (
    Candidate,
    DedupeSettings,
    Fingerprint,
    attack_text,
    fingerprints,
    is_duplicate,
    output_text,
    rank,
    similarity,
    transcript_hash,
)
from bastion.findings._imports import READERS, attempt_transcript, read_findings
from bastion.findings._index import Ranked
from bastion.findings._lifecycle import (
    OPEN_STATES,
    REGRESSION_STATES,
    STATES,
    TRANSITIONS,
    State,
    as_state,
    check_transition,
)
from bastion.findings._metrics import Metrics
from bastion.findings._model import (
    Attachment,
    Comment,
    Finding,
    SeverityIn,
    Submission,
    Transition,
    TurnIn,
    parse_submission,
)
from bastion.findings._notify import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WEBHOOK_SECRET_ENV,
    WEBHOOK_URL_ENV,
    Notifier,
    WebhookNotifier,
    sign,
    verify_signature,
)
from bastion.findings._probes import (
    VerifyResult,
    export_probes,
    regress,
    to_case,
    verify,
)
from bastion.findings._query import EVERYTHING, Filters, Page, Scope, Summary
from bastion.findings._severity import (
    BREADTH,
    EFFORT,
    IMPACT,
    LEVELS,
    RANK,
    REPRODUCIBILITY,
    SLA,
    Level,
    SeverityInputs,
    Sla,
    due,
    rate,
    reproducibility_of,
)
from bastion.findings._store import FindingStore
from bastion.findings._tables import (
    AttachmentRow,
    CommentRow,
    FindingRow,
    OwnerRow,
    TransitionRow,
)

__all__ = [
    "ATTACHMENT_TYPES",
    "BREADTH",
    "EFFORT",
    "EVERYTHING",
    "IMPACT",
    "LEVELS",
    "MAX_ATTACHMENT_BYTES",
    "OPEN_STATES",
    "RANK",
    "READERS",
    "REGRESSION_STATES",
    "REPRODUCIBILITY",
    "SIGNATURE_HEADER",
    "SLA",
    "STATES",
    "TIMESTAMP_HEADER",
    "TRANSITIONS",
    "WEBHOOK_SECRET_ENV",
    "WEBHOOK_URL_ENV",
    "Attachment",
    "AttachmentRow",
    "Candidate",
    "Comment",
    "CommentRow",
    "DedupeSettings",
    "Filters",
    "Finding",
    "FindingRow",
    "FindingStore",
    "Fingerprint",
    "Level",
    "Metrics",
    "Notifier",
    "OwnerRow",
    "Page",
    "Ranked",
    "Scope",
    "SeverityIn",
    "SeverityInputs",
    "Sla",
    "State",
    "Submission",
    "Summary",
    "Transition",
    "TransitionRow",
    "TurnIn",
    "VerifyResult",
    "WebhookNotifier",
    "as_state",
    "attack_text",
    "attempt_transcript",
    "check_transition",
    "due",
    "export_probes",
    "fingerprints",
    "is_duplicate",
    "output_text",
    "parse_submission",
    "rank",
    "rate",
    "read_findings",
    "regress",
    "reproducibility_of",
    "sign",
    "similarity",
    "to_case",
    "transcript_hash",
    "verify",
    "verify_signature",
]
