"""Training and measuring the red-team refusal detector on human-labelled responses.

Data loading and the blind split live in ``_data``, intervals that resample whole questions in
``_interval``, fitting and the artifact card in ``_fit``, the choice of the verdict's voice
settings in ``_voices``, of the length under which the request-and-response reader reads
every response in ``_short``, the attacker strategies' on-topic threshold in ``_topic``;
``scripts/train_refusal.py``, ``scripts/choose_on_topic.py``
and ``scripts/choose_voice_settings.py`` only parse arguments. Fitting needs the ``dev`` extras
(scikit-learn, SciPy); loading the shipped detector does not.
"""

from bastion.redteam.training._data import (
    NEAR_DUP,
    SEED,
    Row,
    dices_dev_rows,
    dices_expert_labels,
    dices_rows,
    gptfuzz_rows,
    gptfuzz_split,
    handwritten_rows,
    near_duplicates,
    run_script,
    split_rows,
    training_rows,
)
from bastion.redteam.training._fit import Fitted, card, evaluate, fit, write_artifact
from bastion.redteam.training._interval import group_interval
from bastion.redteam.training._short import ShortSetting, choose_short, short_words_grid
from bastion.redteam.training._voices import VoiceSetting, choose, voice_grid

__all__ = [
    "NEAR_DUP",
    "SEED",
    "Fitted",
    "Row",
    "ShortSetting",
    "VoiceSetting",
    "card",
    "choose",
    "choose_short",
    "dices_dev_rows",
    "dices_expert_labels",
    "dices_rows",
    "evaluate",
    "fit",
    "gptfuzz_rows",
    "gptfuzz_split",
    "group_interval",
    "handwritten_rows",
    "near_duplicates",
    "run_script",
    "short_words_grid",
    "split_rows",
    "training_rows",
    "voice_grid",
    "write_artifact",
]
