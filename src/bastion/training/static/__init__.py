"""Training the static tier's heads (the ``fast`` profile): static embeddings and one
calibrated linear head per category, written as plain-numpy artifacts that
:mod:`bastion.classify._static` reads. ``scripts/train_embedded.py`` only parses arguments
and calls :func:`build`; the contextual model is trained by :mod:`bastion.training`.

A build, module by module:

1. :mod:`._corpus` (with :mod:`._datasets`, :mod:`._own` and :mod:`._rows`) loads the rows:
   the contextual model's table (``--table``) plus what it lacks, or this package's own
   corpus of permissively licensed sets (:data:`._rows.LICENCES`; non-commercial or
   unlicensed sets are never read), our prompt files and the policy pack's examples (never
   its ``tests/*.jsonl``, which are for measurement), split by a salted hash of the text.
2. :mod:`._features` embeds the first run-time window of each text with the pinned encoder
   (L2-normalised mean pool) beside hashed token n-grams.
3. :mod:`._fit` fits one class-weighted logistic regression per head on the train side and
   folds a Platt calibration on out-of-fold scores into its weights; :mod:`._fewshot` adds
   background prototypes and the calibration of a policy's own few-shot categories.
4. :mod:`._evaluate` measures the exported heads on the dev side only.
5. :mod:`._export` writes ``<encoder>-heads.npz`` (weights, bias, few-shot background
   prototypes) and ``<encoder>-heads.json`` (provenance, metrics, hashes, the command to
   rebuild).

scikit-learn is a development dependency only: the runtime reads the ``.npz`` with numpy.
"""

from bastion.training.static._build import build
from bastion.training.static._features import WINDOW

__all__ = ["WINDOW", "build"]
