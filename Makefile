# The two commands of the quick start:
#   make course   set up .venv and open the course in JupyterLab at lesson 0
#   make test     set up .venv and run the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
READY := $(VENV)/.ready
START := notebooks/00_start_here.ipynb
PORT ?= 8888
# JupyterLab refuses to start as root unless told (containers, CI machines)
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: course test quick setup notebooks bench lint clean

$(READY): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[course,test]"
	$(BIN)/python tools/jupyter_settings.py
	touch $(READY)

setup: $(READY)

course: $(READY)
	$(BIN)/jupyter lab --ip 127.0.0.1 --port $(PORT) $(ROOT_FLAG) $(START)

test: $(READY)
	$(BIN)/ruff check replsim tests benchmarks tools
	$(BIN)/ruff format --check replsim tests benchmarks tools
	$(BIN)/python tools/nbbuild.py --check
	$(BIN)/python -m pytest

# The fast tier for the edit loop: unit and scenario tests, without the fault-schedule suite, the
# notebooks, PostgreSQL and the browser (about a minute on 2 cores). `make test` still runs everything.
quick: $(READY)
	$(BIN)/python -m pytest -o addopts="" -q -m "not slow" tests \
		--ignore=tests/test_browser.py --ignore=tests/test_notebooks.py --ignore=tests/test_postgres.py

notebooks: $(READY)
	$(BIN)/python tools/nbbuild.py

bench: $(READY)
	$(BIN)/python benchmarks/engine.py
	$(BIN)/python benchmarks/interactive.py
	$(BIN)/python benchmarks/sweep.py

clean:
	rm -rf $(VENV) .pytest_cache tests/artifacts
