"""Shared fixtures: a real HTTP server on 127.0.0.1 that serves files from a dict, and artefact paths."""
import http.server, os, re, subprocess, sys, tarfile, threading, venv
from pathlib import Path

import pytest


class _Handler(http.server.BaseHTTPRequestHandler):
    routes = {}   # path -> (status, body bytes, headers dict)

    def do_GET(self):
        self.server.hits.append(self.path)
        status, body, headers = self.routes.get(self.path, (404, b'not found', {}))
        self.send_response(status)
        headers = {'Content-Length': str(len(body)), **headers}
        for k, v in headers.items(): self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args): pass


@pytest.fixture
def http_server():
    "Serve `server.routes[path] = (status, body, headers)` on 127.0.0.1; yields the server (with `.url(path)`)."
    handler = type('Handler', (_Handler,), {'routes': {}})
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    srv.routes, srv.hits = handler.routes, []
    srv.url = lambda path: f'http://127.0.0.1:{srv.server_address[1]}{path}'
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield srv
    srv.shutdown(); srv.server_close()


@pytest.fixture(scope='session')
def artifacts():
    "Folder for test artefacts (screenshots, reports): $ARTIFACTS, else ./test-artifacts."
    d = Path(os.environ.get('ARTIFACTS') or 'test-artifacts')
    d.mkdir(parents=True, exist_ok=True)
    return d


ROOT = Path(__file__).resolve().parent.parent


def run(*cmd, **kw):
    "Run `cmd`; fail with the end of its output unless it succeeds; return its stdout."
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)
    assert r.returncode == 0, f"{cmd} failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    return r.stdout


def du(path):
    return sum(p.stat().st_size for p in Path(path).rglob('*') if p.is_file())


def readme_learner_install():
    "The `pip install` lines of the README's block for learners without make (marked `<!-- learner-install`)."
    readme = (ROOT/'README.md').read_text()
    block = re.search(r'<!-- learner-install[^\n]*\n```bash\n(.*?)```', readme, re.S).group(1)
    lines = [l.split('#')[0].split() for l in block.splitlines()]
    return [l[2:] for l in lines if l[:2] == ['pip', 'install']]


@pytest.fixture(scope='session')
def learner(tmp_path_factory, artifacts):
    "A clean clone (the sdist unpacked) installed the README's way into a clean venv that holds a torch; the notebooks copied."
    tmp = tmp_path_factory.mktemp('learner')
    run(sys.executable, '-m', 'build', '--sdist', '--no-isolation', '-o', tmp/'sdist', ROOT)
    sdist, = (tmp/'sdist').glob('lesson08-*.tar.gz')
    run(sys.executable, '-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation', '-q', '-w', tmp/'dist', sdist, cwd=tmp)
    whl, = (tmp/'dist').glob('lesson08-*.whl')
    with tarfile.open(sdist) as t: t.extractall(tmp/'clone', filter='data')
    clone, = (tmp/'clone').iterdir()
    env = tmp/'venv'
    venv.create(env, with_pip=True)
    py = env/'bin'/'python'
    # The learner already has a torch (PyTorch's CPU index is not reachable here; this machine has a local CPU build).
    import torch
    run(py, '-m', 'pip', 'install', '-q', f"torch=={torch.__version__.split('+')[0]}")
    for args in readme_learner_install():
        if args[0] == 'torch': continue                                  # already there, as for a learner who has one
        run(py, '-m', 'pip', 'install', '-q', *args, cwd=clone)         # no constraints file: the learner's resolver
    r = subprocess.run([py, '-c', 'import fastcore'], capture_output=True)
    assert r.returncode != 0, 'fastcore was installed: it is a dev tool, not a runtime requirement'
    out = run(py, '-m', 'lesson08', 'notebooks', tmp/'course')
    (artifacts/'wheel-size.txt').write_text(f"wheel {whl.stat().st_size/1e6:.2f} MB, sdist {sdist.stat().st_size/1e6:.2f} MB, "
                                            f"venv with jupyterlab {du(env)/1e6:.0f} MB\n")
    return {'sdist': sdist, 'whl': whl, 'env': env, 'py': py, 'course': tmp/'course', 'copied': out}
