# lesson08: `make lab` to learn, `make test` to check everything. Both set up .venv first.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
STAMP := $(VENV)/.lesson08-installed
export ARTIFACTS ?= $(CURDIR)/test-artifacts

.PHONY: install lab lab-source test test-pythons check-export nbtest pytest browser-deps docs wheel clean

# The dev install: the package (editable) with its dev tools; torch pinned to the local CPU build.
$(STAMP): setup.py settings.ini constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -c constraints.txt -e '.[dev]'
	touch $@

install: $(STAMP)

# Learners: your own copy in ./lesson08-notebooks (ignored by git; notebooks already there are kept),
# in a JupyterLab that saves widget state. LAB_ARGS passes options, e.g. LAB_ARGS='--port 8890 --no-browser'.
lab: install
	$(BIN)/lesson08 lab $(LAB_ARGS)

# Maintainers: edit the tracked source notebooks in nbs/ (then nbdev_export, nbdev_clean, commit).
lab-source: install
	$(BIN)/jupyter lab nbs $(LAB_ARGS)

# Debian chromium for the browser tests. Installed when we can (root with apt-get); otherwise
# the browser tests skip with a message, except under CI=true, where they fail instead.
browser-deps:
	@bash scripts/browser_deps.sh

# Fails if the notebooks and lesson08/ disagree: the library can never drift from nbs/.
check-export: install
	$(BIN)/python scripts/check_export.py

nbtest: install
	$(BIN)/nbdev_test --n_workers 2 --timing

pytest: install
	$(BIN)/python -m pytest

test: install browser-deps check-export nbtest pytest

# nbdev_test and the core tests on every Python we claim (3.10-3.13), each in .venv-3.X; PYTHONS='3.12' picks some
test-pythons:
	bash scripts/test_pythons.sh

# The documentation site (Sphinx + MyST-NB, fully offline): docs/_build/html/index.html
docs: install
	$(BIN)/python docs/build.py

wheel: install
	rm -rf dist build
	$(BIN)/python -m pip wheel --no-deps --no-build-isolation -w dist .

clean:
	rm -rf build dist *.egg-info $(ARTIFACTS) _docs docs/_build
