# The template repository's two entry points; see README.md.
.DEFAULT_GOAL := help
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: help demo test test-fast lint docs system-deps bench-serve bench-drift bench-install bench-pipeline bench-pr-loop bench-monitor

help:
	@echo "make demo       generate a project with the defaults into build/demo, set it up, run its pipeline"
	@echo "make test       all template tests (end-to-end included)"
	@echo "make test-fast  template tests without the slow end-to-end ones"
	@echo "make lint       ruff on the template's own code"
	@echo "make docs       the documentation site, built with --strict into build/docs/site (SERVE=1: serve it)"
	@echo "make bench-serve  the generated service against mlflow models serve (BENCH_ARGS=\"--duration 8\")"
	@echo "make bench-drift  the generated drift monitor against Evidently (BENCH_ARGS=\"--install-evidently\")"
	@echo "make bench-install   a project's locked install, warm caches: pip vs uv (BENCH_ARGS=\"--repeat 2\")"
	@echo "make bench-pipeline  the first make pipeline of a new project: before (BENCH_ARGS=\"--before REF\") vs now"
	@echo "make bench-pr-loop   the experiment workflow of a PR under act, warm caches (needs system-deps)"
	@echo "make bench-monitor  the monitor streaming 1M/3M/10M rows of partitioned Parquet (BENCH_ARGS=\"--s3\")"

$(BIN)/.installed: requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

demo: $(BIN)/.installed
	$(BIN)/python scripts/demo.py build/demo

test: $(BIN)/.installed system-deps lint
	$(BIN)/python -m pytest -n 2 --dist loadfile --durations=15

docs: $(BIN)/.installed
	$(BIN)/python scripts/build_docs.py $(if $(SERVE),--serve)

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

# These generate their own projects (into a temporary folder) and run with the template's virtualenv.
bench-install: $(BIN)/.installed
	$(BIN)/python benchmarks/install_pip_vs_uv.py $(BENCH_ARGS)

bench-pipeline: $(BIN)/.installed
	$(BIN)/python benchmarks/first_pipeline.py $(BENCH_ARGS)

bench-pr-loop: $(BIN)/.installed
	$(BIN)/python benchmarks/pr_loop.py $(BENCH_ARGS)
bench-monitor: $(BENCH_PROJECT)/models/metadata.json
	$(BIN)/python benchmarks/monitor_at_scale.py $(BENCH_PROJECT) $(BENCH_ARGS)
