#!/usr/bin/env bash
# `make test-pythons`: nbdev_test and the core pytest files on each Python that lesson08 claims,
# each in its own .venv-3.X. PYTHONS='3.12' picks some. Interpreters come from pyenv, else python3.X.
set -euo pipefail
cd "$(dirname "$0")/.."
versions=${PYTHONS:-3.10 3.11 3.12 3.13}
core="tests/test_data.py tests/test_practice.py tests/test_bench.py tests/test_cli.py"
for v in $versions; do
  py=$(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$v".*/bin/python3 2>/dev/null | sort -V | tail -1 || true)
  [ -n "$py" ] || py=$(command -v "python$v" || true)
  if [ -z "$py" ]; then echo "test-pythons: no Python $v here (pyenv install $v, or put python$v on the PATH)" >&2; exit 1; fi
  venv=.venv-$v
  if [ ! -f "$venv/.lesson08-installed" ] || [ setup.py -nt "$venv/.lesson08-installed" ] || [ settings.ini -nt "$venv/.lesson08-installed" ]; then
    echo "== Python $v ($py): setting up $venv"
    "$py" -m venv "$venv"
    "$venv/bin/python" -m pip install -q --upgrade pip
    "$venv/bin/python" -m pip install -q -c constraints.txt -e '.[dev]'
    touch "$venv/.lesson08-installed"
  fi
  echo "== Python $v: $("$venv/bin/python" -c 'import sys, torch; print(sys.version.split()[0], "torch", torch.__version__)')"
  start=$(date +%s)
  "$venv/bin/nbdev_test" --n_workers 2
  "$venv/bin/python" -m pytest -q -p no:cacheprovider $core
  echo "== Python $v passed in $(( $(date +%s) - start )) s"
done
