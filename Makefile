# One command each: `make demo` runs the main job, `make test` runs the tests.
# Both create the virtual environment and install what they need on first use.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install test lint demo bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	$(BIN)/python -m compileall -q tap_generic_rest sandbox > /dev/null  # as pip does for a wheel
	touch $(STAMP)

install: $(STAMP)  ## create .venv and install the tap with its test tools

test: $(STAMP)  ## run the whole test suite (starts its own sandbox servers)
	$(BIN)/python -m pytest

lint: $(STAMP)  ## ruff and mypy
	$(BIN)/ruff check tap_generic_rest sandbox tests scripts
	$(BIN)/ruff format --check tap_generic_rest sandbox tests scripts
	$(BIN)/mypy

demo: $(STAMP)  ## sandbox API -> meltano run, every source -> local JSONL files; prints row counts
	$(BIN)/python scripts/demo.py

bench: $(STAMP)  ## throughput and latency benchmarks against the sandbox
	$(BIN)/python scripts/bench_throughput.py
	$(BIN)/python scripts/bench_latency.py

clean:
	rm -rf $(VENV) .meltano .cache output
