# Bounce Processor: the two commands a newcomer needs are `make demo` and `make test`.
# Everything they need (virtualenv, packages, the embedded broker, Prometheus for the
# deployment tests) is installed by the targets themselves.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test check lint typecheck bench tools clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

## Run the main job on the embedded default: local broker, sample Postfix log, summary.
demo: $(STAMP)
	$(BIN)/bounce-processor demo

## Run the whole test suite (unit, real broker, deployment checks with real tools).
test: $(STAMP) tools
	$(BIN)/python -m pytest

## Lint and type-check.
check: lint typecheck

lint: $(STAMP)
	$(BIN)/ruff check processor tests bench dashboards
	$(BIN)/ruff format --check processor tests bench dashboards

typecheck: $(STAMP)
	$(BIN)/mypy

## Classification throughput next to its baseline (prints medians and the ratio).
bench: $(STAMP)
	$(BIN)/python bench/classify_throughput.py

## Command-line tools the deployment tests run (Debian packages).
tools:
	if [ -f .ci/install-prometheus.sh ]; then bash .ci/install-prometheus.sh; fi

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
