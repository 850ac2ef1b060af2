"""The learner's path without a browser: the sdist unpacked as a clean clone → a clean venv that already holds a torch →
exactly the `pip install` lines the README gives a learner, with no constraints file → `lesson08 notebooks` → every
shipped notebook, all cells, executed with no network. The wheel built from the sdist is checked too."""
import json, os, re, shutil, subprocess, sys, tarfile, time, venv, zipfile
from pathlib import Path

from conftest import ROOT, readme_learner_install, run

import pytest

def offline(cmd):
    "`cmd` in a new network namespace with only loopback up (where the kernel lets us make one); else with dead proxies."
    ip = shutil.which('ip') or '/usr/sbin/ip'
    probe = ['unshare', '-rn', 'sh', '-c', f'{ip} link set lo up']
    if shutil.which('unshare') and os.path.exists(ip) and subprocess.run(probe, capture_output=True).returncode == 0:
        return ['unshare', '-rn', 'sh', '-c', f'{ip} link set lo up && exec "$@"', 'offline', *map(str, cmd)], {}
    dead = 'http://127.0.0.1:9'
    return list(map(str, cmd)), {'http_proxy': dead, 'https_proxy': dead, 'HTTP_PROXY': dead, 'HTTPS_PROXY': dead, 'no_proxy': ''}


def test_offline_means_offline():
    "The sandbox the notebooks run in reaches no other host."
    cmd, extra = offline([sys.executable, '-c', 'import urllib.request; urllib.request.urlopen("http://example.org", timeout=5)'])
    r = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **extra})
    assert r.returncode != 0 and 'URLError' in r.stderr


def test_the_readme_tells_learners_to_install_from_the_clone():
    steps = readme_learner_install()
    assert steps == [['torch', '--index-url', 'https://download.pytorch.org/whl/cpu'], ['.', 'jupyterlab']], steps
    assert not re.search(r'^\s*pip install lesson08', (ROOT/'README.md').read_text(), re.M)   # not on PyPI: anyone could take the name




def test_wheel_contents_and_runtime(learner, tmp_path):
    names = zipfile.ZipFile(learner['whl']).namelist()
    assert 'lesson08/data/mnist_5k.npz' in names and 'lesson08/lab_settings/overrides.json' in names
    assert {'lesson08/notebooks/bench_results.json', 'lesson08/notebooks/matmul_results.json'} <= set(names)
    shipped = sorted(n.split('/')[-1] for n in names if n.startswith('lesson08/notebooks/') and n.endswith('.ipynb'))
    assert shipped == sorted(p.name for p in (ROOT/'nbs').glob('[0-9A]*.ipynb')), shipped
    assert not any('solutions.ipynb' in n or 'progress' in n for n in names)
    meta = zipfile.ZipFile(learner['whl']).read(next(n for n in names if n.endswith('METADATA'))).decode()
    assert 'example.org' not in meta and 'github.com/lesson08' not in meta      # settings.ini's placeholders stay there
    installed = run(learner['py'], '-m', 'pip', 'list', '--format=freeze').lower()
    for dev_tool in ('nbdev', 'pytest', 'playwright', 'sphinx'):
        assert f'\n{dev_tool}==' not in '\n' + installed, f'{dev_tool} should not be a runtime dependency'
    out = run(learner['py'], '-c', 'from lesson08.data import get_mnist; xt, yt, xv, yv = get_mnist(); '
                                   'print(tuple(xt.shape), tuple(xv.shape), xt.dtype, yt.dtype)', cwd=tmp_path)
    assert out.strip() == '(4000, 784) (1000, 784) torch.float32 torch.int64'
    assert learner['copied'].startswith(f"Copied {len(shipped)} notebooks to ")
    r = subprocess.run([learner['env']/'bin'/'lesson08', 'docs'], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode != 0 and 'clone of the lesson08 repository' in r.stderr


def test_install_prints_no_packaging_warnings(learner, tmp_path):
    "Building from the sdist: no deprecated license classifiers, no data folder missing from the packages."
    r = subprocess.run([sys.executable, '-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation', '-v', '-w', tmp_path, learner['sdist']],
                       capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    log = r.stdout + r.stderr
    assert 'License classifiers are deprecated' not in log and 'is absent from the `packages` configuration' not in log


def test_every_shipped_notebook_runs_offline(learner, artifacts):
    "Run All on every copied notebook (slow cells too), with no network; an error or a cell that never finishes fails."
    course, env = learner['course'], learner['env']
    nbs = sorted(course.glob('[0-9A]*.ipynb'))
    assert len(nbs) >= 11
    times, failures = [], []
    for nb in nbs:
        t = time.time()
        cmd, extra = offline([env/'bin'/'jupyter', 'nbconvert', '--to', 'notebook', '--execute', '--inplace',
                              '--ExecutePreprocessor.timeout=300', nb])
        r = subprocess.run(cmd, capture_output=True, text=True, cwd=course, timeout=900,
                           env={**os.environ, **extra, 'LESSON08_DATA': str(course/'.no-cache'), 'PATH': f"{env/'bin'}:{os.environ['PATH']}"})
        times.append(f'{nb.name}: {time.time() - t:.0f} s')
        if r.returncode: failures.append(f'{nb.name}:\n{r.stderr[-2500:]}'); break   # one failure is enough to read
    (artifacts/'wheel-notebooks.txt').write_text('\n'.join(times) + '\n')
    assert not failures, '\n\n'.join(failures)

    # what the learner then sees: the benchmark chart is a picture, and no temporary path is printed
    bench = json.loads((course/'10_benchmark.ipynb').read_text())
    outs = [o for c in bench['cells'] if c['cell_type'] == 'code' for o in c.get('outputs', [])]
    figures = [o for o in outs if '<Figure size' in ''.join(o.get('data', {}).get('text/plain', ''))]
    assert len(figures) >= 3 and all('image/png' in o['data'] for o in figures), 'a benchmark chart shows as text, not a picture'
    assert 'wrote /' not in ''.join(''.join(o.get('text', '')) for o in outs)
    # the practice notebook, run as shipped: every exercise says "not written yet", none says ✓
    practice = json.loads((course/'11_practice.ipynb').read_text())
    said = ''.join(''.join(o.get('text', '')) for c in practice['cells'] if c['cell_type'] == 'code' for o in c.get('outputs', []))
    assert said.count('not written yet') >= 7 and '✓' not in said, said
    progress = json.loads((course/'lesson08-progress.json').read_text())
    assert {e['status'] for e in progress['exercises'].values()} == {'not written'}
