"""Training and measuring the red-team refusal detector on human-labelled responses.

Data loading and the blind split live in ``_data``, fitting and the artifact card in ``_fit``;
``scripts/train_refusal.py`` only parses arguments. Fitting needs the ``dev`` extras
(scikit-learn, SciPy); loading the shipped detector does not.
"""

from bastion.redteam.training._data import (
    NEAR_DUP,
    SEED,
    Row,
    dices_rows,
    gptfuzz_rows,
    handwritten_rows,
    near_duplicates,
    split_rows,
)
from bastion.redteam.training._fit import Fitted, card, evaluate, fit, write_artifact

__all__ = [
    "NEAR_DUP",
    "SEED",
    "Fitted",
    "Row",
    "card",
    "dices_rows",
    "evaluate",
    "fit",
    "gptfuzz_rows",
    "handwritten_rows",
    "near_duplicates",
    "split_rows",
    "write_artifact",
]
