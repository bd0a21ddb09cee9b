"""Policy management in the web app: pages and JSON API over :mod:`bastion.policy.store`.

The feature ``bastion.policy.web:feature`` adds the list, view, editor (lint feedback inline),
history and diff, publish with a reason, test-set runs and the playground. See
``docs/policies.md``.
"""

from pathlib import Path

from bastion.policy.web._api import router as _api_router
from bastion.policy.web._desk import PolicyDesk, PolicyRow, Trial
from bastion.policy.web._highlight import Segment, segments
from bastion.policy.web._views import router as _page_router
from bastion.web import Feature, NavEntry, Permission

_page_router.include_router(_api_router)

feature = Feature(
    name="policies", router=_page_router, templates=Path(__file__).parent / "templates",
    static=Path(__file__).parent / "static",
    nav=(NavEntry("Policies", "/policies", Permission.POLICIES_VIEW, order=40),),
)
"""The policy pages, registered in :data:`bastion.web.FEATURES`."""

__all__ = ["PolicyDesk", "PolicyRow", "Segment", "Trial", "feature", "segments"]
