# teachkit: two commands for a fresh machine.
#   make lessons   create .venv, install teachkit with Voila, serve the lessons on port 8866
#   make test      create .venv, install with test extras, run the whole test suite
# Other targets: bench (speed tables), release (nbgrader release of the course), clean.

PYTHON ?= python3
VENV   ?= .venv
PORT   ?= 8866
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q
# Binder's exact pins (binder/requirements.txt, Python 3.11) are used as constraints where
# they install, so the tests run on the very stack students get. Where they cannot (another
# Python, or a 3.11 too old for a pinned release, e.g. Debian 12's 3.11.2), one line says so
# and pip resolves from pyproject.toml's ranges. The check asks pip whether each exact pin
# has a release for this interpreter (--dry-run --no-deps: no resolution, no backtracking). $(VENV)/teachkit-stack.txt records which
# (tests/test_binder.py reads it). Usage: $(call install,EXTRAS)
TEST_EXTRAS := test,lessons,grading,hub
define install
	@if ! $(BIN)/python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then \
	  why="Python $$($(BIN)/python -c 'import platform; print(platform.python_version())') is not Binder's 3.11"; \
	elif ! $(PIP) install --dry-run --no-deps -r binder/requirements.txt >$(VENV)/pins-check.log 2>&1; then \
	  why="they do not install on Python $$($(BIN)/python -c 'import platform; print(platform.python_version())') (pip's reason: $(VENV)/pins-check.log)"; \
	fi; \
	if [ -z "$$why" ]; then \
	  echo "Installing .[$(1)] with Binder's exact pins (binder/requirements.txt)"; \
	  $(PIP) install $(DRY) -c binder/requirements.txt -e ".[$(1)]" && echo "binder-pins" > $(VENV)/teachkit-stack.txt; \
	else \
	  echo "Binder's pins are not used: $$why; resolving .[$(1)] from pyproject.toml's ranges"; \
	  $(PIP) install $(DRY) -e ".[$(1)]" && echo "pyproject-ranges: Binder's pins not used: $$why" > $(VENV)/teachkit-stack.txt; \
	fi
endef

.PHONY: lessons test test-matrix check-install bench release autograde clean help site

help:
	@echo "make lessons   serve the lessons with Voila on http://localhost:$(PORT)/"
	@echo "make test      run the whole test suite (unit, notebooks, browser, nbgrader)"
	@echo "make bench     print the speed tables of tests/benchmarks/"
	@echo "make release   nbgrader: generate the student version of every assignment"
	@echo "make autograde nbgrader: autograde ASSIGNMENT=<name> (all if empty) in the sandbox"
	@echo "make site      the lessons as a static site (Voici + Pyodide) in $(SITE_OUT)/, built offline"
	@echo "make test-matrix  library tests on each of MATRIX=\"$(MATRIX)\" (python3.X on PATH or pyenv's)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip

# What the wheel copies into the venv's share/ and etc/ (pyproject's shared-data): an editable
# install copies these files rather than linking them, so a change must reinstall.
SHARED_DATA := teachkit/_wsguard.json $(wildcard teachkit/_jupyter/voila/templates/teachkit/*)

# One stamp per set of extras: reinstall only when pyproject.toml or the shared data change.
$(VENV)/.stamp-lessons: pyproject.toml binder/requirements.txt $(SHARED_DATA) | $(BIN)/python
	$(call install,lessons)
	@touch $@

$(VENV)/.stamp-test: pyproject.toml binder/requirements.txt $(SHARED_DATA) | $(BIN)/python
	$(call install,$(TEST_EXTRAS))
	@touch $@ $(VENV)/.stamp-lessons

lessons: $(VENV)/.stamp-lessons
	@echo ""
	@echo "  teachkit lessons: open http://localhost:$(PORT)/ in your browser (Ctrl-C to stop)"
	@echo ""
	$(BIN)/teachkit lessons --port $(PORT) --source lessons

test: $(VENV)/.stamp-test
	$(BIN)/python -m pytest --durations=30

# Resolve (pip --dry-run, nothing installed) both installs above, pins chosen as above:
# a cheap check that `make lessons` and `make test` would install on this PYTHON.
check-install: DRY = --dry-run
check-install: | $(BIN)/python
	$(call install,lessons)
	$(call install,$(TEST_EXTRAS))

# The library's own tests (no browser, Voila or nbgrader) on the other supported Pythons,
# each in its own .venv-3.X with the newest releases pip resolves (a declared variant of
# the Binder stack: see tests/test_binder.py). python3.X is the first that runs of: on
# PATH, then pyenv's ~/.pyenv/versions/3.X.*; a Python not found is skipped, saying so.
MATRIX ?= 3.10 3.12 3.13
LIBRARY_TESTS := tests/test_survival.py tests/test_cox.py tests/test_tables.py \
	tests/test_datasets.py tests/test_sequential.py tests/test_design.py tests/test_risk.py \
	tests/test_aall1331.py tests/test_cohort.py tests/test_simulate.py tests/test_plots.py \
	tests/test_explorers.py tests/test_display.py tests/test_layout.py tests/test_committee.py \
	tests/test_show_code.py tests/test_claims.py tests/test_monitoring_plan.py \
	tests/test_figures_look_right.py teachkit
# The lessons' page renderer needs nbconvert and Voila (the lessons' extras, not the library's):
# its doctest runs in make test, not in the library matrix.
MATRIX_IGNORE := --ignore=teachkit/_mathml.py

test-matrix:
	@for v in $(MATRIX); do \
	  py=""; for c in $$(command -v python$$v) $$(ls -d $$HOME/.pyenv/versions/$$v.*/bin/python$$v 2>/dev/null | sort -V -r); do \
	    if $$c -c "" 2>/dev/null; then py=$$c; break; fi; done; \
	  if [ -z "$$py" ]; then echo "== Python $$v: not found (neither python$$v on PATH nor pyenv's), skipped"; continue; fi; \
	  echo "== Python $$v: $$py"; \
	  [ -x .venv-$$v/bin/python ] || $$py -m venv .venv-$$v || exit 1; \
	  .venv-$$v/bin/python -m pip --disable-pip-version-check -q install -e ".[test]" || exit 1; \
	  .venv-$$v/bin/python -m pytest -q -p no:cacheprovider --basetemp=.venv-$$v/pytest-tmp $(MATRIX_IGNORE) $(LIBRARY_TESTS) || exit 1; \
	done

bench: $(VENV)/.stamp-test
	@for f in tests/benchmarks/bench_*.py; do \
	  echo "== $$f"; $(BIN)/python $$f || exit 1; echo; \
	done

release: $(VENV)/.stamp-test
	@# nbgrader runs alembic from PATH when it creates the gradebook: put the venv first.
	cd course && for a in $$(ls source); do \
	  PATH="$(abspath $(BIN)):$$PATH" $(abspath $(BIN))/nbgrader generate_assignment "$$a" --force --create || exit 1; done
	@echo "Student versions are in course/release/ (see course/README.md)"

# Autograde submitted/<student>/<assignment> in the bubblewrap sandbox (course/grading/), every
# assignment even if one fails, then report flagged submissions and those that could not be
# graded (graded 0 with a flag); the exit status is 1 if any could not be graded or a run
# failed. Without bubblewrap or user namespaces: make autograde TEACHKIT_SANDBOX=off (unsafe:
# see course/README.md, "Threat model"). COURSE: another copy of the course folder.
ASSIGNMENT ?=
COURSE ?= course
autograde: $(VENV)/.stamp-test
	@cd $(COURSE) && failed=""; for a in $${ASSIGNMENT:-$$(ls source)}; do \
	  PATH="$(abspath $(BIN)):$$PATH" $(abspath $(BIN))/nbgrader autograde "$$a" --create || failed="$$failed $$a"; \
	done; \
	echo "Grades: cd $(COURSE) && nbgrader export (grades.csv has a 'flags' column: read it)"; \
	PATH="$(abspath $(BIN)):$$PATH" $(abspath $(BIN))/python grading/report.py --failed="$$failed" $${ASSIGNMENT:-$$(ls source)}

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
