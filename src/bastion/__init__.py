"""Bastion: an open, self-hosted AI security platform.

The public entry points::

    from bastion import classify, load_policy
    verdicts = classify(["some text"], "default")
"""

from bastion.classify import Verdict, aclassify, classify
from bastion.policy import Policy, load_policy

__version__ = "0.1.0"

__all__ = ["Policy", "Verdict", "__version__", "aclassify", "classify", "load_policy"]
