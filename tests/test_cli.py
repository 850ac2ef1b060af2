"""The console script, run as a learner runs it."""
import json, os, re, select, signal, socket, subprocess, sys, time, urllib.request
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]


def test_every_command_has_help():
    for args in ([], ['lab'], ['notebooks'], ['bench'], ['docs'], ['train']):
        r = subprocess.run([BIN/'lesson08', *args, '--help'], capture_output=True, text=True)
        assert r.returncode == 0 and 'usage: lesson08' in r.stdout


def test_notebooks_command(tmp_path):
    r = subprocess.run([BIN/'lesson08', 'notebooks', tmp_path/'x'], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert (tmp_path/'x'/'00_data.ipynb').is_file() and (tmp_path/'x'/'02_forward.ipynb').is_file()


def test_lab_serves_the_notebooks(tmp_path):
    "`lesson08 lab` starts a JupyterLab that lists the course notebooks."
    port = free_port()
    proc = subprocess.Popen([BIN/'lesson08', 'lab', '--dir', tmp_path, '--port', str(port), '--no-browser',
                             ], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp_path,
                            start_new_session=True, env={**os.environ, 'JUPYTER_TOKEN': 'lesson08-test'})
    try:
        deadline, body = time.time() + 60, None
        while time.time() < deadline and body is None:
            try:
                with urllib.request.urlopen(f'http://127.0.0.1:{port}/api/contents?token=lesson08-test', timeout=2) as r:
                    body = json.load(r)
            except OSError: time.sleep(0.5)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try: out = proc.communicate(timeout=15)[0]
        except subprocess.TimeoutExpired: os.killpg(proc.pid, signal.SIGKILL); out = proc.communicate()[0]
    assert body, f'JupyterLab did not answer within 60 s:\n{out}'
    assert '00_data.ipynb' in [c['name'] for c in body['content']]
    assert 'Course notebooks in' in out


def test_help_speaks_to_the_user_and_is_quick():
    "Help describes what a command does for you, not its Python return value; `lesson08 --help` does not import torch."
    for args, banned in ((['notebooks'], 'Returns'), (['bench'], 'JSON-ready dict'), (['lab'], 'nbs/')):
        out = subprocess.run([BIN/'lesson08', *args, '--help'], capture_output=True, text=True).stdout
        assert banned not in out, (args, out)
    code = "import sys; from lesson08.cli import main\ntry: main(['--help'])\nexcept SystemExit: pass\nprint('torch' in sys.modules)"
    assert subprocess.run([sys.executable, '-c', code], capture_output=True, text=True).stdout.strip().endswith('False')


def test_notebooks_counts_notebooks_in_words(tmp_path):
    out = subprocess.run([BIN/'lesson08', 'notebooks', tmp_path], capture_output=True, text=True).stdout
    n = len(list(tmp_path.glob('*.ipynb')))
    assert out.startswith(f'Copied {n} notebooks to ') and (tmp_path/'bench_results.json').is_file()
    assert json.loads((tmp_path/'matmul_results.json').read_text())['rungs']       # the matmul ladder's saved run, beside the notebooks
    (tmp_path/'11_practice.ipynb').unlink()
    out = subprocess.run([BIN/'lesson08', 'notebooks', tmp_path], capture_output=True, text=True).stdout
    assert out.startswith('Copied 1 notebook to ')


def one_line_error(args, cwd=None):
    r = subprocess.run([BIN/'lesson08', *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=60)
    assert r.returncode != 0 and 'Traceback' not in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    return r.stderr.strip()


def test_bad_destinations_get_one_line(tmp_path):
    f = tmp_path/'a-file'; f.write_text('x')
    assert 'not a folder' in one_line_error(['notebooks', f])
    assert 'Not a directory' in one_line_error(['notebooks', f/'under'])
    assert one_line_error(['notebooks', '/proc/lesson08-course']).startswith('lesson08 notebooks: error: cannot copy into /proc/lesson08-course')
    assert f.read_text() == 'x'


def test_force_never_writes_outside_dest(tmp_path):
    dest, outside = tmp_path/'course', tmp_path/'outside'
    dest.mkdir(); outside.mkdir()
    (outside/'keep.ipynb').write_text('mine')
    (dest/'00_data.ipynb').symlink_to(outside/'keep.ipynb')
    (dest/'02_forward.ipynb').symlink_to(outside/'made-through-a-link.ipynb')
    (dest/'03_backward.ipynb').mkdir()
    r = subprocess.run([BIN/'lesson08', 'notebooks', dest, '--force'], capture_output=True, text=True)
    assert r.returncode == 0 and 'Traceback' not in r.stderr
    assert sorted(p.name for p in outside.iterdir()) == ['keep.ipynb'] and (outside/'keep.ipynb').read_text() == 'mine'
    assert 'symbolic link: not followed' in r.stderr and '03_backward.ipynb is a folder' in r.stderr


def test_empty_notebook_is_kept_with_a_warning(tmp_path):
    (tmp_path/'00_data.ipynb').write_bytes(b'')
    r = subprocess.run([BIN/'lesson08', 'notebooks', tmp_path], capture_output=True, text=True)
    assert r.returncode == 0 and 'is empty (0 bytes): kept' in r.stderr and (tmp_path/'00_data.ipynb').read_bytes() == b''


def test_meaningless_benchmarks_are_refused_before_they_run(tmp_path):
    for args, words in [(['--versions', ','], '--versions names no version'), (['--n', '0'], '--n must be from 1 to 10,000,000'),
                        (['--device', 'meta'], "--device must be 'cpu' or 'cuda'"),
                        (['--json', tmp_path/'missing'/'b.json'], 'does not exist'),
                        (['--chart', tmp_path/'missing'/'b.png'], 'does not exist'),
                        (['--matmul', '--peak-n', '8'], '--peak-n must be from 16 to 8,192'),
                        (['--matmul', '--json', tmp_path/'missing'/'m.json'], 'does not exist'),
                        (['--matmul', '--json', tmp_path], 'is a folder'),
                        (['--matmul', '--chart', tmp_path/'m.png'], '--matmul prints a table')]:
        t = time.time()
        assert words in one_line_error(['bench', *args])
        assert time.time() - t < 30     # refused up front, not after the run


def test_bench_matmul_prints_the_ladder(tmp_path):
    "`lesson08 bench --matmul` times the matmul ladder only (not the versions), prints its table and saves the dict with --json."
    out = tmp_path/'m.json'
    r = subprocess.run([BIN/'lesson08', 'bench', '--matmul', '--repeats', '1', '--peak-n', '256', '--json', out],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and 'Traceback' not in r.stderr, r.stderr
    res = json.loads(out.read_text())
    assert list(res) == ['shape', 'repeats', 'threads', 'rungs', 'lecture_2019_s', 'peak'] and res['repeats'] == 1
    assert list(res['rungs']) == ['loops', 'elementwise', 'broadcast', 'einsum', 'matmul'] and res['peak']['n'] == 256
    rows = [line.split()[0] for line in r.stdout.splitlines() if line.strip()]
    assert all(name in rows for name in res['rungs']) and 'peak: torch.matmul at 256×256' in r.stdout and f'wrote {out}' in r.stdout
    assert 'peak memory' not in r.stdout and 'v5' not in r.stdout        # the versions' benchmark is skipped


# `lesson08 train` and `lesson08 bench`: one line for every expected failure, checks before the work

def start(args, **env):
    "`lesson08 ARGS` started in a session of its own, as a terminal runs it, with its output in pipes."
    return subprocess.Popen([BIN/'lesson08', *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True, env={**os.environ, **env})


def read_until(proc, text, timeout=60):
    "What `proc` printed on stdout until `text` appeared (or it exited, or `timeout` s passed)."
    out, deadline = b'', time.time() + timeout
    while text.encode() not in out and time.time() < deadline:
        if select.select([proc.stdout], [], [], 0.2)[0]:
            chunk = os.read(proc.stdout.fileno(), 1 << 16)
            if not chunk: break
            out += chunk
    return out.decode()


def finish(proc, timeout=60):
    "`proc`'s exit status and the rest of its stdout and stderr (killed if it does not end within `timeout` s)."
    try: out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired: os.killpg(proc.pid, signal.SIGKILL); out, err = proc.communicate()
    return proc.returncode, out.decode(), err.decode()


@pytest.mark.parametrize('args, started', [(['train', '--epochs', 2000], 'Training 784'),
                                           (['bench', '--n', 500, '--repeats', 1, '--versions', 'v1,v2,v3,v4,v5,v6', '--no-train'], 'peak memory')])
def test_ctrl_c_says_one_line_and_exits_130(args, started):
    "Ctrl-C (SIGINT to the whole process group, as a terminal sends it) ends with one line and status 130, no traceback."
    proc = start(args, PYTHONUNBUFFERED='1')
    try: assert started in read_until(proc, started)
    finally: time.sleep(0.5); os.killpg(proc.pid, signal.SIGINT)
    rc, _, err = finish(proc)
    assert rc == 130 and 'Traceback' not in err and 'KeyboardInterrupt' not in err, err
    assert err.strip().splitlines() == [f'lesson08 {args[0]}: interrupted: nothing saved'], err


def test_missing_full_data_is_one_line(tmp_path):
    "Offline and with no cached copy, `--data full` says what to do in one line, not under a traceback."
    dead = 'http://127.0.0.1:9'
    r = subprocess.run([BIN/'lesson08', 'train', '--data', 'full', '--epochs', '1'], capture_output=True, text=True, timeout=120,
                       env={**os.environ, 'LESSON08_DATA': str(tmp_path), 'https_proxy': dead, 'HTTPS_PROXY': dead, 'no_proxy': ''})
    assert r.returncode == 1 and 'Traceback' not in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert r.stderr.startswith('lesson08 train: error: could not get mnist.pkl.gz') and 'Download it by hand' in r.stderr


@pytest.mark.parametrize('args, words', [(['train', '--nh', 10**9], '--nh'), (['train', '--seed', 10**30], '--seed'),
                                         (['train', '--seed', -1], '--seed'), (['train', '--epochs', 0], '--epochs'),
                                         (['train', '--bs', 10**20], '--bs'), (['train', '--nh', 'many'], '--nh'),
                                         (['bench', '--n', 10**20], '--n'), (['bench', '--repeats', 10**20], '--repeats')])
def test_out_of_range_numbers_are_refused_up_front(args, words):
    "A number no run can use is refused before any work, in one line naming the option and the range it takes."
    t = time.time()
    msg = one_line_error(args)
    assert msg.startswith(f'lesson08 {args[0]}: error: ') and words in msg and (' from ' in msg or 'whole number' in msg), msg
    assert time.time() - t < 30


def test_a_console_that_cannot_show_the_characters(tmp_path):
    "On a console with a narrow encoding (a Windows code page), → and é are replaced instead of ending the command."
    env = {**os.environ, 'PYTHONIOENCODING': 'ascii'}
    r = subprocess.run([BIN/'lesson08', 'train', '--epochs', '1'], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0 and 'Training 784?50?10' in r.stdout, r.stderr
    r = subprocess.run([BIN/'lesson08', 'notebooks', tmp_path/'leçons'], capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0 and 'le?ons' in r.stdout and (tmp_path/'leçons'/'00_data.ipynb').is_file(), r.stderr


def test_unwritable_json_is_refused_before_training(tmp_path):
    "A --json path that can't be written is found out before any training, and nothing is written through a link."
    outside = tmp_path/'outside'; outside.mkdir()
    (tmp_path/'link.json').symlink_to(outside/'made-through-a-link.json')
    cases = [(tmp_path/'link.json', 'symbolic link'), (tmp_path/'missing'/'t.json', 'does not exist'),
             (tmp_path, 'is a folder'), ('/proc/lesson08-t.json', 'cannot be written')]
    for path, words in cases:
        r = subprocess.run([BIN/'lesson08', 'train', '--epochs', '1', '--json', path], capture_output=True, text=True, timeout=120)
        assert r.returncode == 2 and 'Training' not in r.stdout and 'Traceback' not in r.stderr, (path, r.stderr)
        assert len(r.stderr.strip().splitlines()) == 1 and words in r.stderr, (path, r.stderr)
    assert list(outside.iterdir()) == []
    (tmp_path/'mine.json').write_text('keep')       # an existing file is checked without being emptied (then the run fails: no data)
    dead = 'http://127.0.0.1:9'
    r = subprocess.run([BIN/'lesson08', 'train', '--data', 'full', '--json', tmp_path/'mine.json'], capture_output=True, text=True, timeout=120,
                       env={**os.environ, 'LESSON08_DATA': str(tmp_path/'no-data'), 'https_proxy': dead, 'HTTPS_PROXY': dead, 'no_proxy': ''})
    assert r.returncode == 1 and 'could not get mnist.pkl.gz' in r.stderr and (tmp_path/'mine.json').read_text() == 'keep'


@pytest.mark.parametrize('args, started, results', [(['train', '--epochs', 40], 'Training 784', 'final validation accuracy'),
                                                    (['bench', '--n', 200, '--repeats', 20, '--versions', 'v5', '--no-train', '--in-process'],
                                                     'timing', 'v5 against its own matmuls')])
def test_json_that_fails_at_the_end_keeps_the_results(tmp_path, args, started, results):
    "If the --json folder vanishes during the run, the results are still printed, with one line saying the file was not written."
    (tmp_path/'out').mkdir()
    proc = start([*args, '--json', tmp_path/'out'/'r.json'], PYTHONUNBUFFERED='1')
    try: assert started in read_until(proc, started)
    finally: (tmp_path/'out').rmdir()
    rc, out, err = finish(proc)
    lines = err.strip().splitlines()
    assert rc == 1 and results in out and len(lines) == 1 and 'could not write' in lines[0] and 'Traceback' not in err, err


def test_train_prints_each_epoch_as_it_ends():
    "Each epoch's line appears while the next epochs are still training, not all at the end."
    proc = start(['train', '--epochs', 2000])
    try:
        out = read_until(proc, 'epoch   1:', timeout=30)
        running = proc.poll() is None
    finally: os.killpg(proc.pid, signal.SIGKILL); finish(proc)
    assert 'epoch   1: train loss' in out and running and 'final validation accuracy' not in out, out


def test_python_dash_m_is_the_same_command(tmp_path):
    "Where the scripts folder is not on the PATH (often on Windows), `python -m lesson08` works."
    r = subprocess.run([sys.executable, '-m', 'lesson08', 'notebooks', tmp_path/'x'], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.startswith('Copied '), r.stderr
    assert (tmp_path/'x'/'03_backward.ipynb').is_file()


def test_an_old_python_is_told_in_one_line(tmp_path):
    "Run from a clone with Python 3.9 (simulated: sitecustomize says 3.9), `python -m lesson08` names the Python it needs."
    (tmp_path/'sitecustomize.py').write_text("import sys\nsys.version_info = (3, 9, 6, 'final', 0)\nsys.version = '3.9.6 (simulated)'\n")
    r = subprocess.run([sys.executable, '-m', 'lesson08', '--help'], capture_output=True, text=True,
                       env={**os.environ, 'PYTHONPATH': str(tmp_path)})
    assert r.returncode == 1 and r.stdout == ''
    assert r.stderr.strip() == f"lesson08 needs Python 3.10 or newer; this is Python 3.9.6 ({sys.executable})", r.stderr


ROOT = Path(__file__).resolve().parent.parent


def test_make_lab_installs_the_package_and_jupyterlab_only(tmp_path):
    "A learner's `make lab`: no dev tools, no constraints file (whose torch pin is the 5 GB CUDA build on a laptop)."
    def plan(target, **var):
        r = subprocess.run(['make', '-n', target, f'VENV={tmp_path}/venv', *[f'{k}={v}' for k, v in var.items()]],
                           cwd=ROOT, capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        return [l for l in r.stdout.splitlines() if 'pip install' in l]
    lab = plan('lab')
    assert lab[-1].endswith("install -q -e . 'jupyterlab>=4,<5'") and not any('[dev]' in l or 'constraints' in l for l in lab), lab
    assert any('[dev]' in l and 'constraints.txt' in l for l in plan('install'))          # the maintainers' venv keeps both
    assert any('torch --index-url https://download.pytorch.org/whl/cpu' in l for l in plan('lab', TORCH_INDEX='https://download.pytorch.org/whl/cpu'))


def test_make_says_which_python_it_needs(tmp_path):
    old = tmp_path/'python3.9'
    old.write_text('#!/bin/sh\n[ "$1" = -V ] && { echo "Python 3.9.6"; exit 0; }\nexit 1\n'); old.chmod(0o755)
    for target in ('lab', 'install'):
        r = subprocess.run(['make', target, f'PYTHON={old}', f'VENV={tmp_path}/venv'], cwd=ROOT, capture_output=True, text=True)
        assert r.returncode != 0 and not (tmp_path/'venv').exists()
        assert r.stderr.splitlines()[0] == f"lesson08 needs Python 3.10 or newer; {old} is Python 3.9.6. Try: make {target} PYTHON=python3.12", r.stderr


def test_make_bench_gpu_stops_in_one_line_without_a_gpu():
    "`make bench-gpu` on a machine with no CUDA GPU: one line that says so (plus make's own 'Error 1'), nothing benchmarked or written."
    venv_py = ROOT/'.venv'/'bin'/'python'           # the target uses the dev venv's torch, whatever Python runs this test
    if not venv_py.exists(): pytest.skip("no dev venv (.venv): make bench-gpu would install one first")
    probe = subprocess.run([venv_py, '-c', 'import torch; print(torch.version.cuda is None, torch.cuda.is_available())'],
                           capture_output=True, text=True, timeout=120).stdout.split()
    cpu_build, has_gpu = probe == ['True', 'False'], probe[-1:] == ['True']
    if has_gpu: pytest.skip("this machine has a CUDA GPU: make bench-gpu would run the whole benchmark")
    saved = ROOT/'nbs'/'bench_results_cuda.json'
    before = saved.stat().st_mtime if saved.exists() else None
    r = subprocess.run(['make', '-s', '--no-print-directory', '-o', '.venv/.lesson08-installed', 'bench-gpu'], cwd=ROOT,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode != 0 and r.stdout == '', (r.returncode, r.stdout)
    said = [l for l in r.stderr.splitlines() if not re.match(r'make(\[\d+\])?: \*\*\* ', l)]   # make's own trailer (make[2] when nested)
    why = 'is a CPU-only build: install a CUDA build of PyTorch there' if cpu_build else 'no CUDA GPU here (torch '
    assert len(said) == 1 and said[0].startswith('make bench-gpu: ') and why in said[0], r.stderr
    assert (saved.stat().st_mtime if saved.exists() else None) == before
