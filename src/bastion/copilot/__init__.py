"""The defender's co-pilot: incident triage with confirmed playbook actions, threat-intel
digests mapped to MITRE ATLAS, and code-vulnerability triage with real scanners.

Every feature works without a model (the extractive mode: clustering, templates, keyword and
indicator extraction); with ``BASTION_COPILOT_LLM_BASE_URL`` and ``..._MODEL`` set (or the
classifier's ``BASTION_LLM_*``) an OpenAI-compatible model writes the prose. Text under
analysis is data, never instructions: actions come only from playbooks applied to an
incident's structured facts, and run only after a person confirms them::

    triage = Triager().triage(incident)
    desk = ActionDesk(sessions, ActionContext(accounts))
    proposals = desk.store(incident.id, triage.drafts)
    desk.confirm(proposals[0].id, by="alice", reason="confirmed jailbreak campaign")
"""

from bastion.copilot._actions import ActionDesk, Confirmed, Proposal
from bastion.copilot._atlas import ATTRIBUTION, Technique, atlas_table, map_techniques
from bastion.copilot._backend import (
    LLMWriter,
    TemplateWriter,
    Writer,
    Written,
    build_messages,
    writer_from_env,
)
from bastion.copilot._code import CodeFinding, CodeReport, scan_code
from bastion.copilot._digest import Digest, digest
from bastion.copilot._finding_playbooks import OpenFinding, StartRegressionCampaign
from bastion.copilot._incident import Alert, AlertLike, Incident, IncidentLike
from bastion.copilot._indicators import Indicator
from bastion.copilot._indicators import extract as extract_indicators
from bastion.copilot._playbook import (
    ActionContext,
    Draft,
    Outcome,
    Playbook,
    RegressionTarget,
    playbook,
    playbooks,
    register_playbook,
)
from bastion.copilot._playbooks import AddPolicyExample, RotateKey, SuspendAccount
from bastion.copilot._reports import Report, read_report, read_report_file
from bastion.copilot._scanners import Bandit, RawFinding, Scanner, Semgrep
from bastion.copilot._triage import AlertGroup, RankedAlert, Triage, Triager

__all__ = [
    "ATTRIBUTION",
    "ActionContext",
    "ActionDesk",
    "AddPolicyExample",
    "Alert",
    "AlertGroup",
    "AlertLike",
    "Bandit",
    "CodeFinding",
    "CodeReport",
    "Confirmed",
    "Digest",
    "Draft",
    "Incident",
    "IncidentLike",
    "Indicator",
    "LLMWriter",
    "OpenFinding",
    "Outcome",
    "Playbook",
    "Proposal",
    "RankedAlert",
    "RawFinding",
    "RegressionTarget",
    "Report",
    "RotateKey",
    "Scanner",
    "Semgrep",
    "StartRegressionCampaign",
    "SuspendAccount",
    "Technique",
    "TemplateWriter",
    "Triage",
    "Triager",
    "Writer",
    "Written",
    "atlas_table",
    "build_messages",
    "digest",
    "extract_indicators",
    "map_techniques",
    "playbook",
    "playbooks",
    "read_report",
    "read_report_file",
    "register_playbook",
    "scan_code",
    "writer_from_env",
]
