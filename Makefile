# statelab: `make lab` to learn, `make test` to check everything. Needs Python 3.10+ and make.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.statelab-installed

.PHONY: lab test lint bench notebooks clean help

help:
	@echo "make lab    - create .venv, install, open JupyterLab on the first notebook"
	@echo "make test   - create .venv, install, run the lint and type gates and every test"
	@echo "make lint   - ruff and mypy --strict on statelab/ (make test runs them first)"
	@echo "make bench  - run the benchmarks and print their figures"
	@echo "make notebooks - re-execute the notebooks and store their outputs"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "statelab needs Python 3.10 or newer; run: make PYTHON=python3.11 ...")'
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml binder/overrides.json | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade "pip>=23.2"
	$(BIN)/python -m pip install --quiet -e ".[notebooks,test,hiredis]"
	@mkdir -p $(VENV)/share/jupyter/lab/settings
	@cp binder/overrides.json $(VENV)/share/jupyter/lab/settings/overrides.json
	@touch $(STAMP)

# JupyterLab refuses to start as root unless told; containers and CI machines often run as root.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)

lab: $(STAMP)
	@# The stored outputs are HTML and SVG, shown only in trusted notebooks: ours, so sign them.
	@$(BIN)/jupyter trust notebooks/[0-9][0-9]-*.ipynb >/dev/null
	$(BIN)/jupyter lab $(ROOT_FLAG) $(LAB_FLAGS) notebooks/01-start-the-sidecar.ipynb

# Exercise progress goes to a scratch file during tests, never to the learner's home.
TEST_PROGRESS := $(CURDIR)/$(VENV)/test-progress.json

# The gates: ruff (rules in pyproject.toml) and mypy --strict on the package.
lint: $(STAMP)
	$(BIN)/python -m ruff check statelab
	$(BIN)/python -m mypy

test: lint
	rm -f $(TEST_PROGRESS)
	STATELAB_PROGRESS_FILE=$(TEST_PROGRESS) $(BIN)/python -m pytest tests notebooks --nbval \
		--nbval-current-env --nbval-sanitize-with notebooks/nbval-sanitize.cfg

notebooks: $(STAMP)
	$(BIN)/python tools/execute_notebooks.py

bench: $(STAMP)
	$(BIN)/python bench/bench_sidecar.py
	$(BIN)/python bench/bench_hardening.py
	$(BIN)/python bench/bench_grpc.py
	$(BIN)/python bench/bench_sim.py
	$(BIN)/python bench/bench_replication.py
	$(BIN)/python bench/bench_widgets.py

clean:
	rm -rf $(VENV) build *.egg-info statelab.egg-info .pytest_cache .hypothesis
