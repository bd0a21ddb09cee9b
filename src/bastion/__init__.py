"""Bastion: an open, self-hosted AI security platform.

The public entry points::

    from bastion import classify, load_policy
    verdicts = classify(["some text"], "default")
"""

import os

# numpy's bundled OpenBLAS starts a thread per core, and each thread spins for a while after
# every product. Bastion's products are small (a batch against a dozen heads), so the spinning
# threads only take the cores from the tokenizer and ONNX Runtime: on two cores, one BLAS
# thread made the fast profile 40 % faster. Set before numpy is first imported; an operator's
# own OPENBLAS_NUM_THREADS wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from bastion.classify import Verdict, aclassify, classify
from bastion.policy import Policy, load_policy

__version__ = "0.1.0"

__all__ = ["Policy", "Verdict", "__version__", "aclassify", "classify", "load_policy"]
