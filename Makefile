# The README names these targets. Everything runs from .venv, created on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 8000

.PHONY: run test test-fast lint rules rules-validate bench install clean synth

$(STAMP): requirements.txt requirements-dev.txt infra/requirements.txt
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

## test: rules, lint, the layering contracts (.importlinter), then the whole suite (unit, contracts and
## integration on moto, API, end-to-end against a local server)
test: rules
	$(PY) -m chalicelib.rules validate
	$(PY) -m ruff check .
	$(VENV)/bin/lint-imports
	$(PY) -m pytest -n 2 -q

## test-fast: the unit tests alone (pure logic, no AWS, no servers), in one process: seconds, for the edit loop
test-fast: rules
	$(PY) -m pytest -m unit -n 0 -q

## synth: CloudFormation templates of every region in infra/regions.json into cdk.out/; fails on any
## cdk-nag finding not acknowledged with a reason (infra/nag.py) and on any cfn-lint error or warning.
## W3005 (a DependsOn also implied by a GetAtt) is CDK's own doing in every Lambda it writes.
synth: rules
	$(PY) -m infra.app --outdir cdk.out
	$(VENV)/bin/cfn-lint --ignore-checks W3005 -- cdk.out/*.template.json

lint: $(STAMP)
	$(PY) -m ruff check .

bench: rules
	$(PY) -m bench.run

clean:
	rm -rf $(VENV) chalicelib/rules_data .pytest_cache cdk.out chalice.out
