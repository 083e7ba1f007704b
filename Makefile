# The template repository's two entry points; see README.md.
.DEFAULT_GOAL := help
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: help demo test test-fast lint system-deps

help:
	@echo "make demo       generate a project with the defaults into build/demo, set it up, run its pipeline"
	@echo "make test       all template tests (end-to-end included)"
	@echo "make test-fast  template tests without the slow end-to-end ones"
	@echo "make lint       ruff on the template's own code"

$(BIN)/.installed: requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

demo: $(BIN)/.installed
	$(BIN)/python scripts/demo.py build/demo

test: $(BIN)/.installed system-deps lint
	$(BIN)/python -m pytest -n 2 --dist loadfile

system-deps: ## podman, runc, debootstrap, jq for the act and container tests (apt-get, as root, once)
	bash scripts/install-system-deps.sh

test-fast: $(BIN)/.installed
	$(BIN)/python -m pytest -m "not slow"

lint: $(BIN)/.installed
	$(BIN)/ruff check --config pyproject.toml .
	$(BIN)/ruff format --config pyproject.toml --check .
