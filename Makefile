# teachkit: two commands for a fresh machine.
#   make lessons   create .venv, install teachkit with Voila, serve the lessons on port 8866
#   make test      create .venv, install with test extras, run the whole test suite
# Other targets: bench (speed tables), release (nbgrader release of the course), clean.

PYTHON ?= python3
VENV   ?= .venv
PORT   ?= 8866
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q
# On Python 3.11 (Binder's) install with Binder's exact pins as constraints, so the
# tests run on the very stack students get; other Pythons resolve freely.
PINS   = $(shell $(BIN)/python -c 'import sys; print("-c binder/requirements.txt" if sys.version_info[:2] == (3, 11) else "")')

.PHONY: lessons test test-matrix bench release clean help site

help:
	@echo "make lessons   serve the lessons with Voila on http://localhost:$(PORT)/"
	@echo "make test      run the whole test suite (unit, notebooks, browser, nbgrader)"
	@echo "make bench     print the speed tables of tests/benchmarks/"
	@echo "make release   nbgrader: generate the student version of every assignment"
	@echo "make site      the lessons as a static site (Voici + Pyodide) in $(SITE_OUT)/, built offline"
	@echo "make test-matrix  library tests on each of MATRIX=\"$(MATRIX)\" (python3.X on PATH)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip

# One stamp per set of extras: reinstall only when pyproject.toml changes.
$(VENV)/.stamp-lessons: pyproject.toml binder/requirements.txt | $(BIN)/python
	$(PIP) install $(PINS) -e ".[lessons]"
	@touch $@

$(VENV)/.stamp-test: pyproject.toml binder/requirements.txt | $(BIN)/python
	$(PIP) install $(PINS) -e ".[test,lessons,grading]"
	@touch $@ $(VENV)/.stamp-lessons

lessons: $(VENV)/.stamp-lessons
	@echo ""
	@echo "  teachkit lessons: open http://localhost:$(PORT)/ in your browser (Ctrl-C to stop)"
	@echo ""
	$(BIN)/teachkit lessons --port $(PORT) --source lessons

test: $(VENV)/.stamp-test
	$(BIN)/python -m pytest

# The library's own tests (no browser, Voila or nbgrader) on the other supported Pythons,
# each in its own .venv-3.X with the newest releases pip resolves (a declared variant of
# the Binder stack: see tests/test_binder.py).
MATRIX ?= 3.10 3.12 3.13
LIBRARY_TESTS := tests/test_survival.py tests/test_cox.py tests/test_tables.py \
	tests/test_datasets.py tests/test_sequential.py tests/test_design.py tests/test_risk.py \
	tests/test_aall1331.py tests/test_cohort.py tests/test_simulate.py tests/test_plots.py \
	tests/test_explorers.py teachkit

test-matrix:
	@for v in $(MATRIX); do \
	  echo "== Python $$v"; \
	  [ -x .venv-$$v/bin/python ] || python$$v -m venv .venv-$$v || exit 1; \
	  .venv-$$v/bin/python -m pip --disable-pip-version-check -q install -e ".[test]" || exit 1; \
	  .venv-$$v/bin/python -m pytest -q $(LIBRARY_TESTS) || exit 1; \
	done

bench: $(VENV)/.stamp-test
	@for f in tests/benchmarks/bench_*.py; do \
	  echo "== $$f"; $(BIN)/python $$f || exit 1; echo; \
	done

release: $(VENV)/.stamp-test
	@# nbgrader runs alembic from PATH when it creates the gradebook: put the venv first.
	cd lessons/exercises && for a in $$(ls source); do \
	  PATH="$(abspath $(BIN)):$$PATH" $(abspath $(BIN))/nbgrader generate_assignment "$$a" --force --create || exit 1; done
	@echo "Student versions are in lessons/exercises/release/ (see lessons/exercises/README.md)"

# The lessons as a static site that runs Python in the learner's browser (Voici on
# Pyodide 0.27.7): tools/site/README.md. Build tools in their own venv; the Pyodide package
# files come from PYODIDE_PACKAGES and are checked against the npm lock's sha256.
PYODIDE_PACKAGES ?= ../shared/pyodide/packages
SITE_VENV ?= .venv-site
SITE_OUT  ?= _site

$(SITE_VENV)/.stamp: tools/site/requirements.txt
	[ -x $(SITE_VENV)/bin/python ] || $(PYTHON) -m venv $(SITE_VENV)
	$(SITE_VENV)/bin/python -m pip --disable-pip-version-check -q install -r tools/site/requirements.txt
	@touch $@

site: $(SITE_VENV)/.stamp
	$(SITE_VENV)/bin/python tools/site/build.py --packages "$(PYODIDE_PACKAGES)" --out "$(SITE_OUT)"

clean:
	rm -rf $(VENV) .venv-3.* build dist *.egg-info .pytest_cache
