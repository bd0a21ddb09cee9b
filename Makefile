# One place for every check; CI (.ci/run) and the README use these targets.
# PYTHON picks the interpreter (3.11, 3.12 or 3.13): make demo PYTHON=python3.12.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --quiet --disable-pip-version-check
SRC    := src tests bench scripts
# An interpreter named on the command line must match the existing venv (scripts/venv.sh).
EXPLICIT := $(if $(filter command line environment,$(origin PYTHON)),yes,no)

.PHONY: demo install install-dev install-train venv lint typecheck test test-fast tour check \
        bench lock clean

venv:
	@scripts/venv.sh "$(PYTHON)" "$(VENV)" $(EXPLICIT)

# Runtime only: the pinned, hash-checked lock, then Bastion itself.
$(VENV)/.installed-main: requirements/main.lock pyproject.toml | venv
	$(PIP) install --require-hashes -r requirements/main.lock
	$(PIP) install --no-deps --no-build-isolation -e .
	touch $@

# Everything for development and tests (linters, test tools; no torch).
$(VENV)/.installed-dev: requirements/dev.lock pyproject.toml | venv
	$(PIP) install --require-hashes -r requirements/dev.lock
	$(PIP) install --no-deps --no-build-isolation -e .
	touch $@ $(VENV)/.installed-main

install: $(VENV)/.installed-main
install-dev: $(VENV)/.installed-dev

## Training (scripts/train_*): torch's CPU build, Python 3.11 on Linux x86-64 only.
install-train: install-dev
	$(PIP) install --require-hashes --extra-index-url https://download.pytorch.org/whl/cpu \
	  -r requirements/train.lock

## The main job on the embedded defaults: classify the shipped samples with the default policy.
demo: install
	$(BIN)/bastion demo

lint: install-dev
	$(BIN)/ruff check $(SRC)

typecheck: install-dev
	$(BIN)/mypy

## The test command (README, CI): lint, type-check, then the whole test suite.
test: lint typecheck
	$(BIN)/python -m pytest

## The test suite without the slow, MiniLM and browser tests (CI's second interpreter).
test-fast: install-dev
	$(BIN)/python -m pytest -m "not slow and not minilm and not browser" -q

## The README's tour, run as written, checked against the README (also a slow test).
tour: install-dev
	$(BIN)/python scripts/readme_tour.py --check

check: test

bench: install-dev
	$(BIN)/python bench/speed.py
	$(BIN)/python bench/classifier_quality.py
	$(BIN)/python bench/pack_quality.py --tier default
	$(BIN)/python bench/gateway_latency.py
	$(BIN)/python bench/redteam_speed.py
	$(BIN)/python bench/refusal_quality.py
	$(BIN)/python bench/redteam_verdicts.py
	$(BIN)/python bench/policy_reload.py
	$(BIN)/python bench/findings_dedupe.py
	$(BIN)/python bench/findings_scale.py
	$(BIN)/python bench/monitor_detectors.py
	$(BIN)/python bench/copilot_code.py
	$(BIN)/python bench/web_pages.py
	$(BIN)/python scripts/readme_tour.py --tables-only --write

## Regenerate requirements/*.lock from pyproject.toml (needs PyPI; see scripts/lock.sh).
lock: install-dev
	UV=$(BIN)/uv scripts/lock.sh

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
