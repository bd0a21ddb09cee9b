#!/usr/bin/env bash
# Make the virtual environment (make's first step), or check that the one there fits.
#   scripts/venv.sh PYTHON VENV EXPLICIT
# EXPLICIT is "yes" when the user chose PYTHON (make ... PYTHON=python3.12): an existing venv
# made by another interpreter is then an error that says what to do, never silently reused.
set -euo pipefail
python=$1 venv=$2 explicit=$3
supported="3.11, 3.12 or 3.13"

version_of() { "$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null; }

if [ -e "$venv" ]; then
  have=$(version_of "$venv/bin/python" || true)
  if [ -z "$have" ]; then
    echo "error: '$venv' is not a working virtual environment ('$venv/bin/python' does not run)." >&2
    echo "       Remove it with 'make clean' and run the command again." >&2
    exit 2
  fi
  case "$have" in
    3.11|3.12|3.13) ;;
    *) echo "error: '$venv' was made by Python $have; Bastion needs Python $supported." >&2
       echo "       Run 'make clean', then e.g. 'make demo PYTHON=python3.12'." >&2
       exit 2 ;;
  esac
  if [ "$explicit" = yes ]; then
    want=$(version_of "$python" || true)
    if [ -n "$want" ] && [ "$want" != "$have" ]; then
      echo "error: '$venv' was made by Python $have, but PYTHON=$python is Python $want." >&2
      echo "       Run 'make clean' first to rebuild it with Python $want," >&2
      echo "       or pass VENV=.venv-$want to keep both." >&2
      exit 2
    fi
  fi
  exit 0
fi

want=$(version_of "$python" || true)
if [ -z "$want" ]; then
  echo "error: PYTHON=$python is not a Python interpreter on this machine; Bastion needs" >&2
  echo "       Python $supported (e.g. make demo PYTHON=python3.12)." >&2
  exit 2
fi
case "$want" in
  3.11|3.12|3.13) ;;
  *) echo "error: PYTHON=$python is Python $want; Bastion needs Python $supported" >&2
     echo "       (e.g. make demo PYTHON=python3.12)." >&2
     exit 2 ;;
esac
echo "== making $venv with Python $want ($python)"
"$python" -m venv "$venv"
# A current pip and a build backend that reads pyproject's licence field, hash-checked.
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --require-hashes \
  -r requirements/bootstrap.lock
