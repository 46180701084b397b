# Two commands: `make run` (set up and serve the demo) and `make test` (lint, then the whole suite).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)
FLASK := $(BIN)/flask --app app

.PHONY: install run test check clean mutation

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

run: install
	$(FLASK) init-db
	$(FLASK) seed-demo --if-empty
	$(BIN)/python -m registry.devserver

test: install
	$(BIN)/ruff check --quiet .
	$(BIN)/python -m pytest

check: install
	$(FLASK) policies check

# Mutation testing of registry/domain/ by its own tests (tests/domain), one module at a time
# (config: setup.cfg [mutmut]; report: docs/mutation.md). Slow; not part of `make test` or CI.
# `make mutation MODULES="periods deadlines"` runs only those; MUTMUT_CHILDREN=1 by default (shared CPUs).
MODULES ?= periods deadlines workdays eligibility guards lifecycle consequences criteria_nodes criteria_report \
	regions uscc text policy criteria_toml criteria actors errors passwords personal
MUTMUT_CHILDREN ?= 1
mutation: install
	@for m in $(MODULES); do \
	  $(BIN)/mutmut run --max-children $(MUTMUT_CHILDREN) "registry.domain.$$m.*" >/dev/null || exit 1; \
	done
	$(BIN)/python scripts/mutation_summary.py $(MODULES)

clean:
	rm -rf $(VENV) .pytest_cache mutants
