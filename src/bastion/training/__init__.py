"""Training the contextual model (needs ``pip install 'bastion-ai[train]'``; never imported at
run time). ``scripts/train_classifier.py`` runs :data:`STEPS` in order."""

from bastion.training._pipeline import CONFIGS, ONLY_NAMED, STEPS, Paths
from bastion.training._sources import HEADS, LICENCES, Row, load_all
from bastion.training._split import assign, clusters, near_duplicates

__all__ = ["CONFIGS", "HEADS", "LICENCES", "ONLY_NAMED", "STEPS", "Paths", "Row", "assign",
           "clusters", "load_all", "near_duplicates"]
