# statelab: `make lab` to learn, `make test` to check everything. Needs Python 3.10+ and make.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.statelab-installed

.PHONY: lab test lint bench notebooks lite lite-serve clean help

help:
	@echo "make lab    - create .venv, install, open JupyterLab on the first notebook"
	@echo "make test   - create .venv, install, run the lint and type gates and every test"
	@echo "make lint   - ruff and mypy --strict on statelab/ (make test runs them first)"
	@echo "make bench  - run the benchmarks and print their figures"
	@echo "make notebooks - re-execute the notebooks and store their outputs"
	@echo "make lite   - build the offline JupyterLite site (Pyodide in the browser) into lite/_output"
	@echo "make lite-serve - build it if needed and serve it on http://127.0.0.1:$(LITE_PORT)/ (LITE_PORT=...)"

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
	$(BIN)/python -m ruff check statelab tools
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
	$(MAKE) -s lite >/dev/null && $(BIN)/python bench/bench_lite.py

# JupyterLite: a separate build venv (its pins in lite/requirements.txt), then tools/build_lite.py.
# pyodide-lock declares Requires-Python >=3.12 but runs on 3.10+: there its line in
# lite/requirements.txt is skipped and it is installed alone (its dependencies are pinned there).
LITE_VENV  ?= .venv-lite
LITE_BIN   := $(LITE_VENV)/bin
LITE_STAMP := $(LITE_VENV)/.statelab-lite-installed
LITE_PORT  ?= 8000
LITE_SITE  := lite/_output/jupyter-lite.json
LITE_INPUTS := tools/build_lite.py tools/lite_notebooks.py lite/jupyter_lite_config.json \
	lite/jupyter-lite.json $(wildcard lite/lite-constraints.txt) pyproject.toml README.md \
	$(wildcard notebooks/*.ipynb notebooks/*.md) $(shell find statelab -name '*.py' 2>/dev/null)

$(LITE_BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "make lite needs Python 3.10 or newer; run: make PYTHON=python3.11 ...")'
	$(PYTHON) -m venv $(LITE_VENV)

$(LITE_STAMP): lite/requirements.txt | $(LITE_BIN)/python
	$(LITE_BIN)/python -m pip install --quiet --upgrade "pip>=23.2"
	$(LITE_BIN)/python -m pip install --quiet -r lite/requirements.txt
	$(LITE_BIN)/python -m pip install --quiet --no-deps --ignore-requires-python \
		"$$(sed -n 's/^\(pyodide-lock\)\[uv\]\(==[^ ;]*\).*/\1\2/p' lite/requirements.txt)"
	@touch $(LITE_STAMP)

# `make lite` always builds, from scratch (10-15 s once the downloads are cached);
# `make lite-serve` builds only when an input is newer than the site.
lite: $(LITE_STAMP)
	$(LITE_BIN)/python tools/build_lite.py
	@touch $(LITE_SITE)

$(LITE_SITE): $(LITE_STAMP) $(LITE_INPUTS)
	$(LITE_BIN)/python tools/build_lite.py
	@touch $(LITE_SITE)

lite-serve: $(LITE_SITE)
	@echo "JupyterLite: http://127.0.0.1:$(LITE_PORT)/lab/index.html (Ctrl-C stops the server)"
	$(LITE_BIN)/python -m http.server $(LITE_PORT) --bind 127.0.0.1 --directory lite/_output

clean:
	rm -rf $(VENV) build *.egg-info statelab.egg-info .pytest_cache .hypothesis
	rm -rf $(LITE_VENV) lite/_output lite/.cache lite/static lite/wheels lite/files lite/.jupyterlite.doit.db
