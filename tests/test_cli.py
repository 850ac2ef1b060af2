"""The console script, run as a learner runs it."""
import json, os, signal, socket, subprocess, sys, time, urllib.request
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
    assert (tmp_path/'x'/'00_data.ipynb').is_file() and (tmp_path/'x'/'01_forward.ipynb').is_file()


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
    (tmp_path/'10_practice.ipynb').unlink()
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
    assert one_line_error(['notebooks', '/proc/lesson08-course']).startswith('lesson08 notebooks: cannot copy into /proc/lesson08-course')
    assert f.read_text() == 'x'


def test_force_never_writes_outside_dest(tmp_path):
    dest, outside = tmp_path/'course', tmp_path/'outside'
    dest.mkdir(); outside.mkdir()
    (outside/'keep.ipynb').write_text('mine')
    (dest/'00_data.ipynb').symlink_to(outside/'keep.ipynb')
    (dest/'01_forward.ipynb').symlink_to(outside/'made-through-a-link.ipynb')
    (dest/'02_backward.ipynb').mkdir()
    r = subprocess.run([BIN/'lesson08', 'notebooks', dest, '--force'], capture_output=True, text=True)
    assert r.returncode == 0 and 'Traceback' not in r.stderr
    assert sorted(p.name for p in outside.iterdir()) == ['keep.ipynb'] and (outside/'keep.ipynb').read_text() == 'mine'
    assert 'symbolic link: not followed' in r.stderr and '02_backward.ipynb is a folder' in r.stderr


def test_empty_notebook_is_kept_with_a_warning(tmp_path):
    (tmp_path/'00_data.ipynb').write_bytes(b'')
    r = subprocess.run([BIN/'lesson08', 'notebooks', tmp_path], capture_output=True, text=True)
    assert r.returncode == 0 and 'is empty (0 bytes): kept' in r.stderr and (tmp_path/'00_data.ipynb').read_bytes() == b''


def test_meaningless_benchmarks_are_refused_before_they_run(tmp_path):
    for args, words in [(['--versions', ','], '--versions names no version'), (['--n', '0'], '--n must be at least 1'),
                        (['--device', 'meta'], "--device must be 'cpu' or 'cuda'"),
                        (['--json', tmp_path/'missing'/'b.json'], 'does not exist'),
                        (['--chart', tmp_path/'missing'/'b.png'], 'does not exist')]:
        t = time.time()
        assert words in one_line_error(['bench', *args])
        assert time.time() - t < 30     # refused up front, not after the run
