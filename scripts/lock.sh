#!/usr/bin/env bash
# Regenerate every lock in requirements/ from pyproject.toml (make lock). Needs uv (in the dev
# lock) and PyPI. The locks name no index and no local path: `pip install --require-hashes -r`
# installs them from PyPI alone.
#
#   bootstrap.lock  pip + setuptools, installed first into a fresh venv   (Python 3.11-3.13)
#   main.lock       the runtime                                          (Python 3.11-3.13)
#   dev.lock        runtime + lint, type-check and test tools, no torch  (Python 3.11-3.13)
#   train.lock      runtime + the `train` extra, torch CPU build         (Python 3.11, x86-64)
#   semgrep.lock    the co-pilot's optional Semgrep, in its own venv     (Python 3.11-3.13)
#
# train.lock takes torch from PyTorch's CPU wheels: pass their folder or index with
# TORCH_WHEELS=/path/to/wheels (default /opt/wheels) to lock, and install it with
#   pip install --require-hashes --extra-index-url https://download.pytorch.org/whl/cpu \
#       -r requirements/train.lock
set -euo pipefail
cd "$(dirname "$0")/.."
UV=${UV:-uv}
export UV_INDEX_URL=https://pypi.org/simple UV_CUSTOM_COMPILE_COMMAND="make lock"
universal=(--universal --python-version 3.11 --generate-hashes --quiet)
"$UV" pip compile requirements/bootstrap.in "${universal[@]}" -o requirements/bootstrap.lock
"$UV" pip compile pyproject.toml "${universal[@]}" -o requirements/main.lock
"$UV" pip compile requirements/semgrep.in "${universal[@]}" -o requirements/semgrep.lock
"$UV" pip compile pyproject.toml "${universal[@]}" --extra dev --extra plot -o requirements/dev.lock
"$UV" pip compile pyproject.toml --extra train --python-version 3.11 \
  --python-platform x86_64-manylinux_2_28 --generate-hashes --quiet \
  --find-links "${TORCH_WHEELS:-/opt/wheels}" --no-emit-find-links \
  --override requirements/train-cpu.txt -o requirements/train.lock
