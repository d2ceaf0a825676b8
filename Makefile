# Hubbub: `make run` serves on http://127.0.0.1:8000 (SQLite, migrated first);
# `make test` runs the whole suite (SQLite, then PostgreSQL and Redis, and the browser tests).

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=
# Test processes (pytest-xdist): both cores of the 2-core machines this runs on.
PYTEST_WORKERS ?= 2

.PHONY: run test lint test-sqlite test-postgresql bench clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Hubbub needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/hubbub serve --host $(HOST) --port $(PORT)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The suite runs twice: on SQLite (with the browser tests, and coverage with its
# floor), then on a fresh PostgreSQL database with Redis (with the multi-worker tests;
# without coverage, which would double its time).
test-sqlite: $(VENV)/.installed-test
	$(BIN)/pytest -n $(PYTEST_WORKERS) --db sqlite -m "not multiworker" --cov --cov-report=term $(PYTEST_ARGS)

test-postgresql: $(VENV)/.installed-test
	$(BIN)/pytest -n $(PYTEST_WORKERS) --db postgresql -m "not browser" $(PYTEST_ARGS)

test: lint test-sqlite test-postgresql

bench: $(VENV)/.installed-test
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .coverage test-output
