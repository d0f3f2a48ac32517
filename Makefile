# The two commands of the quick start:
#   make course   set up .venv with the course and open it in JupyterLab at lesson 0
#   make test     set up .venv with the course and the test tools, and run the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
COURSE_READY := $(VENV)/.course-ready
TEST_READY := $(VENV)/.test-ready
PORT ?= 8888

.PHONY: course test quick setup notebooks bench lint clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { \
	  echo "error: the course needs Python 3.11 or newer, and '$(PYTHON)' is older or missing."; \
	  echo "       Name a newer one, for example: make $(MAKECMDGOALS) PYTHON=python3.12"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# the course only: the package, JupyterLab, and the PostgreSQL lab's client (and server, where a wheel exists)
$(COURSE_READY): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[course]"
	touch $(COURSE_READY)

# the course plus the test suite's tools (pytest, nbval, jupytext, ruff, playwright, SimPy, uv)
$(TEST_READY): pyproject.toml $(COURSE_READY)
	$(BIN)/python -m pip install --quiet -e ".[course,test]"
	touch $(TEST_READY)

setup: $(TEST_READY)

course: $(COURSE_READY)
	$(BIN)/python tools/course.py --port $(PORT)

test: $(TEST_READY)
	$(BIN)/ruff check replsim tests benchmarks tools
	$(BIN)/ruff format --check replsim tests benchmarks tools
	$(BIN)/python tools/nbbuild.py --check
	$(BIN)/python -m pytest

# The fast tier for the edit loop: unit and scenario tests, without the fault-schedule suite, the
# notebooks, PostgreSQL and the browser (about a minute on 2 cores). `make test` still runs everything.
quick: $(TEST_READY)
	$(BIN)/python -m pytest -o addopts="" -q -m "not slow" tests \
		--ignore=tests/test_browser.py --ignore=tests/test_notebooks.py --ignore=tests/test_postgres.py \
		--ignore=tests/test_checkout_clean.py --ignore=tests/test_course_launch.py --ignore=tests/test_platforms.py

notebooks: $(TEST_READY)
	$(BIN)/python tools/nbbuild.py

bench: $(TEST_READY)
	$(BIN)/python benchmarks/engine.py
	$(BIN)/python benchmarks/interactive.py
	$(BIN)/python benchmarks/sweep.py
	$(BIN)/python benchmarks/judge.py

clean:
	rm -rf $(VENV) .pytest_cache tests/artifacts
