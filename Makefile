# Two commands for a fresh machine with only Python and make: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test lint typecheck unit bench bench-distributed clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

demo: $(BIN)/.installed
	$(BIN)/exposure demo

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(BIN)/.installed
	$(BIN)/mypy

unit: $(BIN)/.installed
	$(BIN)/pytest

test: lint typecheck unit

bench: $(BIN)/.installed
	$(BIN)/python benchmarks/scan.py

# Needs a PostgreSQL (EXPOSURE_TEST_POSTGRES_URL; `source .ci/postgres.sh` starts one).
bench-distributed: $(BIN)/.installed
	$(BIN)/python benchmarks/distributed.py

clean:
	rm -rf $(VENV) exposure-demo .pytest_cache .mypy_cache .ruff_cache
