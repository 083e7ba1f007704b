# The template repository's two entry points; see README.md.
.DEFAULT_GOAL := help
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: help demo test test-fast lint system-deps bench-serve bench-drift bench-monitor

help:
	@echo "make demo       generate a project with the defaults into build/demo, set it up, run its pipeline"
	@echo "make test       all template tests (end-to-end included)"
	@echo "make test-fast  template tests without the slow end-to-end ones"
	@echo "make lint       ruff on the template's own code"
	@echo "make bench-serve  the generated service against mlflow models serve (BENCH_ARGS=\"--duration 8\")"
	@echo "make bench-drift  the generated drift monitor against Evidently (BENCH_ARGS=\"--install-evidently\")"
	@echo "make bench-monitor  the monitor streaming 1M/3M/10M rows of partitioned Parquet (BENCH_ARGS=\"--s3\")"

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

# The benchmarks measure a default project generated, set up and trained by scripts/demo.py into build/bench
# (once: delete build/bench to measure a fresh one); each runs with that project's virtualenv.
BENCH_PROJECT := build/bench/my-mlops-project

$(BENCH_PROJECT)/models/metadata.json: | $(BIN)/.installed
	$(BIN)/python scripts/demo.py build/bench

bench-serve: $(BENCH_PROJECT)/models/metadata.json
	$(BIN)/python benchmarks/serve_vs_mlflow.py $(BENCH_PROJECT) $(BENCH_ARGS)

bench-drift: $(BENCH_PROJECT)/models/metadata.json
	$(BIN)/python benchmarks/drift_vs_evidently.py $(BENCH_PROJECT) $(BENCH_ARGS)

bench-monitor: $(BENCH_PROJECT)/models/metadata.json
	$(BIN)/python benchmarks/monitor_at_scale.py $(BENCH_PROJECT) $(BENCH_ARGS)
