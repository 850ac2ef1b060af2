"""The console script, run as a learner runs it."""
import json, os, signal, socket, subprocess, sys, time, urllib.request
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]


def test_every_command_has_help():
    for args in ([], ['lab'], ['notebooks'], ['bench'], ['docs']):
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
    (tmp_path/'09_practice.ipynb').unlink()
    out = subprocess.run([BIN/'lesson08', 'notebooks', tmp_path], capture_output=True, text=True).stdout
    assert out.startswith('Copied 1 notebook to ')
