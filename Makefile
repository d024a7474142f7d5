# Siaga112 — the two commands everything starts from: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint install migrate worker check clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/siaga migrate

## make run: the gateway on the embedded default (SQLite under var/, no Redis) at http://127.0.0.1:8000
run: migrate
	$(BIN)/siaga web --host 127.0.0.1

worker: install
	$(BIN)/siaga worker

check: install
	$(BIN)/siaga config check

## make lint: the import contracts (lint-imports: core imports neither bots nor workflows, workflows do not import
## bots, ...; see pyproject.toml), ruff (style and likely bugs), mypy (strict on core/ and workflows/); fastest first.
lint: install
	$(BIN)/lint-imports
	$(BIN)/ruff check .
	$(BIN)/mypy

## make test: lint first, then the whole suite, on SQLite and on the local PostgreSQL and Redis, in TEST_WORKERS processes (4: the suite mostly waits on real rate limits, not the CPU)
## (pytest-xdist; each worker has its own database, Redis database and session log). TEST_WORKERS=0: one process.
## The slow end-to-end files are collected first (tests/conftest.py) and handed out two tests at a time
## (--maxschedchunk 2), so no worker is left alone at the end with a block of slow tests.
TEST_WORKERS ?= 4
test: lint
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --maxschedchunk 2 $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) var/*.db var/*.db-*
