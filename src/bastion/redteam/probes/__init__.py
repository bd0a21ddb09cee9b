"""Probes: sources of attack cases.

Contract (:class:`~bastion.redteam.Probe`): a class with a registry ``name``, a one-line
``description``, its OWASP and ATLAS ids, options as keyword arguments, and ``cases()``, pure
and deterministic (same options, same cases, same ids, so campaigns resume and compare). A
probe that needs data or an option it lacks returns no cases and says why in
``available()``; a bad option raises :class:`~bastion.errors.ConfigError`.

Register a new probe with one line in :mod:`bastion.redteam._builtin` (built-ins) or one
entry point in the ``bastion.redteam.probes`` group (third-party packages).
"""

from bastion.redteam._base import Probe
from bastion.redteam.probes._data import DatasetProbe
from bastion.redteam.probes._file import CasesFile
from bastion.redteam.probes._findings import FindingsProbe
from bastion.redteam.probes._harmful import HarmfulRequests
from bastion.redteam.probes._injection import DirectInjection, IndirectInjection
from bastion.redteam.probes._jailbreak import JailbreakTemplates, ManyShot
from bastion.redteam.probes._leak import (
    CapabilityElicitation,
    SecretLeakage,
    SystemPromptExtraction,
)
from bastion.redteam.probes._owasp import (
    Misinformation,
    OutputHandling,
    RetrievalLeak,
    UnboundedConsumption,
)
from bastion.redteam.probes._purpose import PurposeProbe

__all__ = [
    "CapabilityElicitation",
    "CasesFile",
    "DatasetProbe",
    "DirectInjection",
    "FindingsProbe",
    "HarmfulRequests",
    "IndirectInjection",
    "JailbreakTemplates",
    "ManyShot",
    "Misinformation",
    "OutputHandling",
    "Probe",
    "PurposeProbe",
    "RetrievalLeak",
    "SecretLeakage",
    "SystemPromptExtraction",
    "UnboundedConsumption",
]
