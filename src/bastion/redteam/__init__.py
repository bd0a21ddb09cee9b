"""Red teaming: probes, converters, strategies, targets and scorers, run as campaigns.

Every plugin kind loads through one registry (entry-point groups ``bastion.redteam.probes``,
``...converters``, ``...strategies``, ``...targets``, ``...scorers``)::

    from bastion.redteam import make_config, run_campaign
    attempts = anyio.run(run_campaign, make_config(target="vulnerable", probes=["jailbreak"]))
"""

from bastion.redteam._attacker import Attacker
from bastion.redteam._base import Converter, Probe, Scorer, Strategy, Target
from bastion.redteam._baseline import Comparison, compare
from bastion.redteam._campaign import (
    Campaign,
    Planned,
    decide,
    plan_attempts,
    replay_plan,
    run_campaign,
)
from bastion.redteam._canary import canary, find_canaries
from bastion.redteam._config import CampaignConfig, load_config, make_config
from bastion.redteam._errors import AttackerError, TargetError
from bastion.redteam._gate import Breach, check, load_thresholds
from bastion.redteam._log import CampaignLog, read_log
from bastion.redteam._plan import (
    Check,
    Consult,
    Effect,
    OnTopic,
    Plan,
    Rewind,
    Send,
    adrive,
    drive,
)
from bastion.redteam._plugins import (
    all_cases,
    make_converter,
    make_probe,
    make_scorer,
    make_strategy,
    make_target,
)
from bastion.redteam._registry import (
    KINDS,
    PluginKind,
    available,
    create,
    group,
    plugin_class,
    register,
    unregister,
)
from bastion.redteam._summary import Rate, Summary, summarise, wilson
from bastion.redteam._types import (
    Attempt,
    Case,
    Message,
    Reply,
    Score,
    Secrets,
    Turn,
)
from bastion.redteam.reports._write import FORMATS, Format, render, write_reports
from bastion.redteam.scorers._core import refusal_probabilities
from bastion.redteam.scorers._refusal import RefusalModel, load_refusal_model

__all__ = [
    "FORMATS",
    "KINDS",
    "Attacker",
    "AttackerError",
    "Attempt",
    "Breach",
    "Campaign",
    "CampaignConfig",
    "CampaignLog",
    "Case",
    "Check",
    "Comparison",
    "Consult",
    "Converter",
    "Effect",
    "Format",
    "Message",
    "OnTopic",
    "Plan",
    "Planned",
    "PluginKind",
    "Probe",
    "Rate",
    "RefusalModel",
    "Reply",
    "Rewind",
    "Score",
    "Scorer",
    "Secrets",
    "Send",
    "Strategy",
    "Summary",
    "Target",
    "TargetError",
    "Turn",
    "adrive",
    "all_cases",
    "available",
    "canary",
    "check",
    "compare",
    "create",
    "decide",
    "drive",
    "find_canaries",
    "group",
    "load_config",
    "load_refusal_model",
    "load_thresholds",
    "make_config",
    "make_converter",
    "make_probe",
    "make_scorer",
    "make_strategy",
    "make_target",
    "plan_attempts",
    "plugin_class",
    "read_log",
    "refusal_probabilities",
    "register",
    "render",
    "replay_plan",
    "run_campaign",
    "summarise",
    "unregister",
    "wilson",
    "write_reports",
]
