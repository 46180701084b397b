# Two commands: `make run` (set up and serve the demo) and `make test` (the whole suite).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)
FLASK := $(BIN)/flask --app app

.PHONY: install run test check clean

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
	$(BIN)/python -m pytest

check: install
	$(FLASK) policies check

clean:
	rm -rf $(VENV) .pytest_cache
