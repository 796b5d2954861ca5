# Entry points for people and CI. The venv is rebuilt only when pyproject.toml
# changes (stamp files), so repeated `make test` / `make demo` start fast.

PYTHON ?= python3
VENV := .venv
PYTEST_ARGS ?= -q -ra
ARGS ?=

.PHONY: demo test lint system-deps

demo: $(VENV)/.stamp-base
	exec $(VENV)/bin/citywall demo $(ARGS)

# The whole check, as CI runs it (.ci/run): lint first, so a finding fails in seconds,
# before the system packages and the long pytest run; then the suite.
test: lint system-deps $(VENV)/.stamp-test
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

# Lint and format (ruff) and types (mypy), both configured in pyproject.toml; the first step of `test`.
lint: $(VENV)/.stamp-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

system-deps:
	bash scripts/install-system-deps

# A stock Debian's python3 has no ensurepip until python3-venv is installed.
$(VENV)/bin/python:
	$(PYTHON) -c 'import ensurepip' 2>/dev/null || bash scripts/install-system-deps python3-venv
	$(PYTHON) -m venv $(VENV)

$(VENV)/.stamp-base: pyproject.toml | $(VENV)/bin/python
	$(VENV)/bin/python -m pip install -q -e .
	touch $@

$(VENV)/.stamp-test: pyproject.toml | $(VENV)/bin/python
	$(VENV)/bin/python -m pip install -q -e '.[test]'
	touch $@
