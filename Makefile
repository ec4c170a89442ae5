# Everyday commands of bc-tui; see CONTRIBUTING.md. Each runs the tools from .venv.
# `make venv` creates .venv from the lockfile first.

VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: help venv check lint format-check typecheck imports test test-serial snapshots lock fix

help:
	@echo "make venv        create $(VENV) from requirements-dev.lock (bc-tui itself editable)"
	@echo "make check       ruff check, ruff format --check, mypy, lint-imports"
	@echo "make test        the whole suite in parallel (pytest-xdist)"
	@echo "make test-serial the whole suite in one process (to compare, or to debug)"
	@echo "make snapshots   regenerate the TUI's SVG snapshots after a deliberate change on screen"
	@echo "make lock        rewrite requirements-dev.lock from pyproject.toml"
	@echo "make fix         ruff check --fix and ruff format (rewrites files)"

venv:
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --no-deps -r requirements-dev.lock -e .

check: lint format-check typecheck imports

lint:
	$(VENV)/bin/ruff check bc_tui tests benchmarks

format-check:
	$(VENV)/bin/ruff format --check bc_tui tests benchmarks

typecheck:
	$(VENV)/bin/mypy

imports:
	$(VENV)/bin/lint-imports

test:
	$(PY) -m pytest

test-serial:
	$(PY) -m pytest -n 0

# In one process: with --snapshot-update syrupy deletes the snapshots a run did not use, and an
# xdist worker sees only its share. Review the SVG diffs before committing.
snapshots:
	$(PY) -m pytest -n 0 tests/tui --snapshot-update

# The lockfile pins the whole development environment (both extras) for Python 3.11 on any
# platform; the version bounds themselves live in pyproject.toml.
lock:
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --extra postgres --python-version 3.11 \
		--universal --quiet --custom-compile-command "make lock" -o requirements-dev.lock

fix:
	$(VENV)/bin/ruff check --fix bc_tui tests benchmarks
	$(VENV)/bin/ruff format bc_tui tests benchmarks
