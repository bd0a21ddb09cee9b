"""Pinned, verified loaders for the model files Bastion uses from installed packages."""

from bastion.models._pinned import (
    MINILM_FILES,
    WORDLLAMA_FILES,
    count_tokens,
    minilm,
    package_dir,
    sha256_file,
    verify_files,
    wordllama,
)

__all__ = [
    "MINILM_FILES",
    "WORDLLAMA_FILES",
    "count_tokens",
    "minilm",
    "package_dir",
    "sha256_file",
    "verify_files",
    "wordllama",
]
