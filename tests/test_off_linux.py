"""A learner's Mac or Windows laptop, simulated on Linux (there is no such machine here).

tests/offlinux/sitecustomize.py, put on PYTHONPATH, takes away what lesson08 can't rely on there: /proc (macOS and
Windows) and the `resource` module (Windows). Signals, process ids, paths and consoles are still Linux's, so this
tests lesson08's own code paths, not the operating systems; the README says so. It all runs in the learner's clean venv
(conftest's `learner`: the README's install, no dev tools)."""
import json, os, subprocess, sys
from pathlib import Path

import pytest

SIM = Path(__file__).parent/'offlinux'
@pytest.fixture(scope='module')
def py(learner): return str(learner['py'])


def run(args, system, cwd, timeout=600):
    env = {**os.environ, 'PYTHONPATH': f"{SIM}{os.pathsep}{os.environ.get('PYTHONPATH', '')}", 'LESSON08_SIMULATE': system}
    r = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0 and 'Traceback' not in r.stderr + r.stdout, f"{args}\n{r.stdout[-2000:]}\n{r.stderr[-3000:]}"
    return r.stdout


def test_the_simulation_takes_proc_and_resource_away(tmp_path, py):
    probe = ("import lesson08.bench as b; import importlib.util as u; "
             "print(b.busy_cores(0.1), b.mem_available(), b._rss(), u.find_spec('resource') is None or 'resource-gone')")
    out = run([py, '-c', probe], 'windows', tmp_path)
    assert out.split() == ['None', 'None', 'None', 'True'] or out.split()[-1] == 'resource-gone', out


@pytest.mark.parametrize('system', ['windows', 'macos'])
def test_train_and_a_tiny_bench(tmp_path, system, py):
    out = run([py, '-m', 'lesson08', 'train', '--epochs', '1', '--json', 'train.json'], system, tmp_path)
    assert 'epoch   1:' in out and json.loads((tmp_path/'train.json').read_text())['history']
    out = run([py, '-m', 'lesson08', 'bench', '--n', '300', '--repeats', '1', '--versions', 'v1,v2-nox,v5', '--no-train', '--json', 'b.json'],
              system, tmp_path)
    peaks = [v['peak_bytes'] for v in json.loads((tmp_path/'b.json').read_text())['versions'].values()]
    mm = run([py, '-m', 'lesson08', 'bench', '--matmul', '--repeats', '1', '--peak-n', '64'], system, tmp_path)
    assert 'estimated peak: n/a' in mm                                          # no /proc/cpuinfo: said, not guessed
    if system == 'windows': assert peaks == [None] * 3 and 'n/a' in out          # not measurable: said, never a made-up 0
    else: assert all(isinstance(p, int) for p in peaks)                          # macOS: getrusage, in bytes


def test_the_notebooks_that_touch_the_system(tmp_path, py):
    run([py, '-m', 'lesson08', 'notebooks', 'course'], 'windows', tmp_path)
    for nb in ['00_data.ipynb', '10_benchmark.ipynb', 'A1_download.ipynb', 'A4_benchmark.ipynb', 'A5_cli.ipynb']:
        run([py, '-m', 'jupyter', 'nbconvert', '--to', 'notebook', '--execute', '--inplace',
             '--ExecutePreprocessor.timeout=600', nb], 'windows', tmp_path/'course', timeout=900)
