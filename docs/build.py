"""Build the lesson08 documentation site, offline: `python docs/build.py` (what `make docs` runs).

1. vendor: `npm install` the pinned front-end packages (docs/package.json) and copy what the site
   needs into docs/_static/vendor: MathJax 3, require.js, the widget html-manager, anywidget, and
   axe-core's axe.min.js (served from the site for the accessibility tests; no page loads it by itself);
2. execute: run every course notebook with nbconvert, saving widget state, into docs/course/
   (the committed notebooks in nbs/ stay clean);
3. api: write docs/course/api.md, an index of every exported name;
4. sphinx: build docs/_build/html with MyST-NB and the nbdev bridge in docs/_ext.
"""
import argparse, functools, hashlib, importlib, json, shutil, subprocess, sys, time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
VENDOR, COURSE, OUT = DOCS/'_static'/'vendor', DOCS/'course', DOCS/'_build'/'html'
BIN = Path(sys.executable).parent


def vendor():
    "Install the pinned npm packages (once per package.json) and copy the files the site loads."
    stamp = VENDOR/'.package.json.md5'
    want = hashlib.md5((DOCS/'package.json').read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == want: return
    npm = shutil.which('npm')
    if npm is None: sys.exit("npm is needed to vendor MathJax and the widget manager: install Node.js (apt-get install nodejs npm)")
    subprocess.run([npm, 'install', '--no-package-lock', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'],
                   cwd=DOCS, check=True)
    nm = DOCS/'node_modules'
    shutil.rmtree(VENDOR, ignore_errors=True); VENDOR.mkdir(parents=True)
    mj = nm/'mathjax'/'es5'
    shutil.copytree(mj, VENDOR/'mathjax', ignore=shutil.ignore_patterns('sre', '*-full*', '*svg*', 'mml-*', 'tex-mml-*', 'node-main.js', 'latest.js'))
    shutil.copytree(nm/'@jupyter-widgets'/'html-manager'/'dist', VENDOR/'html-manager', ignore=shutil.ignore_patterns('embed.js', '*.map'))
    shutil.copy(nm/'requirejs'/'require.js', VENDOR/'require.min.js')
    (VENDOR/'anywidget').mkdir(); shutil.copy(nm/'anywidget'/'dist'/'index.js', VENDOR/'anywidget'/'index.js')
    shutil.copy(nm/'axe-core'/'axe.min.js', VENDOR/'axe.min.js')      # the accessibility checker the browser tests inject
    for lic in (nm/'mathjax'/'LICENSE', nm/'anywidget'/'LICENSE', nm/'requirejs'/'LICENSE', nm/'axe-core'/'LICENSE'):
        if lic.exists(): shutil.copy(lic, VENDOR/f'LICENSE.{lic.parent.name}')
    stamp.write_text(want)


@functools.lru_cache(maxsize=None)
def _bridge():
    "The Sphinx extension's module (docs/_ext/nbdev_bridge.py), loaded from its file."
    import importlib.util
    spec = importlib.util.spec_from_file_location('nbdev_bridge', DOCS/'_ext'/'nbdev_bridge.py')
    mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
    return mod


def _skip_flagged(nb):
    "A copy of `nb` (beside it, so relative paths still work) whose cells flagged with one of nbdev's `tst_flags` nbconvert will skip, as nbdev_test does."
    from nbdev.config import get_config
    flags = set(get_config().get('tst_flags', '').split())
    d = json.loads(nb.read_text(encoding='utf-8'))
    for c in d['cells']:
        if c['cell_type'] == 'code' and flags & set(_bridge().directives(''.join(c['source']))[0]):
            c.setdefault('metadata', {}).setdefault('tags', []).append('skip-execution')
    tmp = nb.with_name(f'.{nb.stem}.docs-build.ipynb')
    tmp.write_text(json.dumps(d), encoding='utf-8')
    return tmp


def execute(workers=2, only_missing=False):
    "Execute each course notebook (or, if `only_missing`, those not yet executed) into docs/course/, with widget state saved."
    COURSE.mkdir(exist_ok=True)
    sources = {nb.name for nb in (ROOT/'nbs').glob('[0-9A]*.ipynb')}
    for stale in COURSE.glob('*.ipynb'):           # executed copies of notebooks renamed or removed since: ours to delete
        if stale.name not in sources: stale.unlink()
    nbs = [nb for nb in sorted((ROOT/'nbs').glob('[0-9A]*.ipynb')) if not (only_missing and (COURSE/nb.name).exists())]
    def run(nb):
        t = time.time()
        src = _skip_flagged(nb)
        r = subprocess.run([BIN/'jupyter', 'nbconvert', '--to', 'notebook', '--execute', '--ExecutePreprocessor.store_widget_state=True',
                            '--ExecutePreprocessor.timeout=600', '--log-level=ERROR', '--output', nb.name,
                            '--output-dir', COURSE, src], capture_output=True, text=True, cwd=nb.parent)
        src.unlink()
        if r.returncode: raise RuntimeError(f"executing {nb.name} failed:\n{r.stderr[-3000:]}")
        return nb.name, time.time() - t
    with ThreadPoolExecutor(workers) as ex:
        for name, secs in ex.map(run, nbs): print(f"  executed {name} in {secs:.0f} s")


def api():
    "Write course/api.md: every exported name, grouped by module, linked to its documentation."
    from docutils.nodes import make_id
    lines = ['# API reference', '', 'Every name that `lesson08` exports, by module, in lecture order.', '']
    mods = {mod: page for mod, page in _bridge().pages(ROOT).items() if (ROOT/'lesson08'/f'{mod}.py').exists()}
    for mod, page in sorted(mods.items(), key=lambda kv: kv[1]):
        m = importlib.import_module(f'lesson08.{mod}')
        lines += [f'## `lesson08.{mod}`', '', f'From [{page}]({page}.ipynb): {(m.__doc__ or "").strip()}', '',
                  '| name | what it is |', '|---|---|']
        for name in m.__all__:
            obj = getattr(m, name)
            doc = (getattr(obj, '__doc__', None) or '').strip().split('\n')[0] if callable(obj) else f'constant: `{obj!r}`'[:90]
            home = getattr(obj, '__module__', None) or ''                # a name re-exported from another module (kept for old
            home = mods.get(home.removeprefix('lesson08.'), page) if callable(obj) else page   # import paths) links to its own page
            if home != page: doc += f' (from `{getattr(obj, "__module__")}`)'
            target = f'{home}.html#{make_id(name)}' if callable(obj) else f'{page}.html'
            lines.append(f"| <a class='reference internal' href='{target}'><code>{name}</code></a> | {doc.replace('|', chr(92) + '|')} |")
        lines.append('')
    (COURSE/'api.md').write_text('\n'.join(lines), encoding='utf-8')


def sphinx():
    shutil.rmtree(OUT, ignore_errors=True)
    subprocess.run([sys.executable, '-m', 'sphinx', '-b', 'html', '-q', '-j', '2', DOCS, OUT], check=True, cwd=ROOT)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--no-execute', action='store_true', help='reuse the executed notebooks already in docs/course (new ones are still executed)')
    a = p.parse_args(argv)
    t0 = time.time()
    for name, step in [('vendor', vendor), ('execute', lambda: execute(only_missing=a.no_execute)), ('api', api), ('sphinx', sphinx)]:
        t = time.time(); print(f"{name}..."); step(); print(f"  {name} took {time.time() - t:.0f} s")
    size = sum(f.stat().st_size for f in OUT.rglob('*') if f.is_file())
    print(f"Built the site in {time.time() - t0:.0f} s: {size/1e6:.1f} MB. Open {OUT/'index.html'}")


if __name__ == '__main__': main()
