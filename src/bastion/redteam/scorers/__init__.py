"""Scorers: judge whether an attempt succeeded, by one criterion each.

Contract (:class:`~bastion.redteam.Scorer`): ``await score(attempt, secrets)`` never raises
for runtime failures; it returns a :class:`~bastion.redteam.Score` with ``success=None`` and
the reason, so an error never counts as a (non-)success silently. Scorers read a response
with the attack that produced it: echoes of the request (:mod:`._echo`) and canaries the
attack sent itself are no evidence. Whether a response complied is read whole and voice by
voice (:mod:`._compliance`): one voice that answers is enough.

Register a new scorer with one line in :mod:`bastion.redteam._builtin` or one entry point in
the ``bastion.redteam.scorers`` group.
"""

from bastion.redteam._base import Scorer
from bastion.redteam.scorers._compliance import Compliance, compliance
from bastion.redteam.scorers._core import (
    HarmScorer,
    InjectionScorer,
    LeakScorer,
    RefusalScorer,
    refusal_probabilities,
)
from bastion.redteam.scorers._echo import Novel, novel_text, strip_echo
from bastion.redteam.scorers._judge import JudgeScorer
from bastion.redteam.scorers._owasp import (
    ConsumptionScorer,
    OutputHandlingScorer,
    PremiseScorer,
    RetrievalScorer,
)
from bastion.redteam.scorers._refusal import RefusalModel, load_refusal_model

__all__ = [
    "Compliance",
    "ConsumptionScorer",
    "HarmScorer",
    "InjectionScorer",
    "JudgeScorer",
    "LeakScorer",
    "Novel",
    "OutputHandlingScorer",
    "PremiseScorer",
    "RefusalModel",
    "RefusalScorer",
    "RetrievalScorer",
    "Scorer",
    "compliance",
    "load_refusal_model",
    "novel_text",
    "refusal_probabilities",
    "strip_echo",
]
