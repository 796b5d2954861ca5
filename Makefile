# Entry points for people and CI. The venv is rebuilt only when pyproject.toml
# changes (stamp files), so repeated `make test` / `make demo` start fast.

# The distribution's python3 when it is 3.11 or newer and can make a virtualenv, else the first
# python3 on PATH. Debian and Ubuntu build theirs with profile-guided and link-time
# optimisation; the production install (README) runs on it, and the container image on
# python:3.11-slim, built the same way. A python3 built from source without those (pyenv's
# default) took about a third more CPU per message of the feed here (8 to 45 % in six paired
# runs, bench/README.md). One without python3-venv yet is passed over, so that a machine with
# a Python of its own is not asked for sudo; a stock Debian's, alone on its machine, still
# gets python3-venv installed below. `make PYTHON=...` picks another for a new .venv (remove
# the old one first).
SYSTEM_PYTHON := $(shell /usr/bin/python3 -c 'import sys, ensurepip; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && echo /usr/bin/python3)
PYTHON ?= $(or $(SYSTEM_PYTHON),python3)
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
