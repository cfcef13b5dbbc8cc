# The README names these targets. Everything runs from .venv, created on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 8000

.PHONY: run test lint rules rules-validate bench install clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

rules: $(STAMP)
	$(PY) -m chalicelib.rules build

rules-validate: $(STAMP)
	$(PY) -m chalicelib.rules validate

## run: the local API on http://127.0.0.1:$(PORT) over embedded moto, seeded with the demo tenant
run: rules
	PORT=$(PORT) $(PY) -m local.run

## test: the whole suite (unit, integration on moto, API, end-to-end against a local server)
test: rules
	$(PY) -m chalicelib.rules validate
	$(PY) -m ruff check .
	$(PY) -m pytest -n 2 -q

lint: $(STAMP)
	$(PY) -m ruff check .

bench: rules
	$(PY) -m bench.run

clean:
	rm -rf $(VENV) chalicelib/rules_data .pytest_cache
