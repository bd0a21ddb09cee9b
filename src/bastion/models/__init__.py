"""Pinned, verified loaders for the model files Bastion uses from installed packages."""

from bastion.models._once import LoadedOnce, loaded_once
from bastion.models._pinned import (
    LANGID_FILES,
    MINILM_FILES,
    WORDLLAMA_FILES,
    count_tokens,
    language_identifier,
    minilm,
    minilm_folder,
    package_dir,
    sha256_file,
    verify_files,
    wordllama,
)

__all__ = [
    "LANGID_FILES",
    "MINILM_FILES",
    "WORDLLAMA_FILES",
    "LoadedOnce",
    "count_tokens",
    "language_identifier",
    "loaded_once",
    "minilm",
    "minilm_folder",
    "package_dir",
    "sha256_file",
    "verify_files",
    "wordllama",
]
