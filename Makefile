# lesson08: `make lab` to learn (the package and JupyterLab), `make test` to check everything (the dev tools).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
STAMP := $(VENV)/.lesson08-installed
LAB_STAMP := $(VENV)/.lesson08-lab-installed
# Set TORCH_INDEX=https://download.pytorch.org/whl/cpu to install PyTorch's CPU build first (Linux without an NVIDIA GPU).
TORCH_INDEX ?=
# One line instead of pip's resolver error when the Python is too old (a Mac's python3 may be 3.9).
PYTHON_OK = @$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null || { \
	echo "lesson08 needs Python 3.10 or newer; $(PYTHON) is $$($(PYTHON) -V 2>/dev/null || echo 'not found'). Try: make $(or $(MAKECMDGOALS),lab) PYTHON=python3.12" >&2; exit 1; }
export ARTIFACTS ?= $(CURDIR)/test-artifacts

.PHONY: install lab lab-source test test-pythons check-export nbtest pytest browser-deps docs wheel clean bench-gpu

# The dev install: the package (editable) with its dev tools; torch pinned to the local CPU build.
$(STAMP): setup.py settings.ini constraints.txt
	$(PYTHON_OK)
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -c constraints.txt -e '.[dev]'
	touch $@

install: $(STAMP)

# Learners: the package and JupyterLab only (no dev tools, no pins: pip keeps a torch you already have).
$(LAB_STAMP): setup.py settings.ini
	$(PYTHON_OK)
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	@$(BIN)/python -c 'import torch' 2>/dev/null || [ -n "$(TORCH_INDEX)" ] || [ "$$(uname -s)" != Linux ] || \
	  echo "lesson08: installing PyTorch from PyPI (on Linux its CUDA build, about 5 GB). Without an NVIDIA GPU, stop and run: make lab TORCH_INDEX=https://download.pytorch.org/whl/cpu"
	$(if $(TORCH_INDEX),$(PIP) install -q torch --index-url $(TORCH_INDEX))
	$(PIP) install -q -e . 'jupyterlab>=4,<5'
	touch $@

# Your own copy in ./lesson08-notebooks (ignored by git; notebooks already there are kept),
# in a JupyterLab that saves widget state. LAB_ARGS passes options, e.g. LAB_ARGS='--port 8890 --no-browser'.
lab: $(LAB_STAMP)
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

# On a machine with an NVIDIA GPU and a CUDA build of PyTorch: the benchmark and the training comparison on the GPU,
# saved as nbs/bench_results_cuda.json (10_benchmark shows it). Anywhere else it stops at once, in one line.
bench-gpu: install
	@$(BIN)/python -c 'import sys, torch; torch.cuda.is_available() or sys.exit(f"make bench-gpu: torch {torch.__version__} in $(VENV) is a CPU-only build: install a CUDA build of PyTorch there" if torch.version.cuda is None else f"make bench-gpu: no CUDA GPU here (torch {torch.__version__} finds none): run it on a machine with an NVIDIA GPU")'
	$(BIN)/lesson08 bench --device cuda --json nbs/bench_results_cuda.json

wheel: install
	rm -rf dist build
	$(BIN)/python -m pip wheel --no-deps --no-build-isolation -w dist .

clean:
	rm -rf build dist *.egg-info $(ARTIFACTS) _docs docs/_build
