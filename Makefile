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
	$(BIN)/lint-imports --no-cache

typecheck: $(BIN)/.installed
	$(BIN)/mypy

# The modules whose behaviour rests on the event loop's transports run a second time on uvloop,
# the loop a scan runs on in production (exposure/app/loop.py).
LOOP_SENSITIVE := tests/exposure/app/test_loop_choice.py tests/exposure/net/test_http.py \
	tests/exposure/net/test_http_hostile.py \
	tests/checks/test_securitytxt_visit.py tests/checks/test_securitytxt_check.py \
	tests/checks/test_tls_web_checks.py tests/checks/test_tls_web_deadline.py \
	$(wildcard tests/exposure/net/test_tls*.py tests/checks/test_mail*.py)

unit: $(BIN)/.installed
	$(BIN)/pytest
	EXPOSURE_TEST_LOOP=uvloop $(BIN)/pytest -q $(LOOP_SENSITIVE)

test: lint typecheck unit

bench: $(BIN)/.installed
	$(BIN)/python benchmarks/scan.py

# Needs a PostgreSQL (EXPOSURE_TEST_POSTGRES_URL; `source .ci/postgres.sh` starts one).
bench-distributed: $(BIN)/.installed
	$(BIN)/python benchmarks/distributed.py

clean:
	rm -rf $(VENV) exposure-demo .pytest_cache .mypy_cache .ruff_cache
