"""The red-teaming network: applications and review, agreements, engagements with scoped keys.

The web pages are the ``network`` feature of :mod:`bastion.web` (``bastion.network._web``).
"""

from bastion.network._documents import DOCUMENTS, Document, document
from bastion.network._model import EXPERTISE, ApplicationInfo, EngagementInfo, MemberInfo, Note
from bastion.network._store import NetworkStore
from bastion.network._tables import (
    Agreement,
    Application,
    ApplicationNote,
    Engagement,
    EngagementMember,
)

__all__ = [
    "DOCUMENTS",
    "EXPERTISE",
    "Agreement",
    "Application",
    "ApplicationInfo",
    "ApplicationNote",
    "Document",
    "Engagement",
    "EngagementInfo",
    "EngagementMember",
    "MemberInfo",
    "NetworkStore",
    "Note",
    "document",
]
