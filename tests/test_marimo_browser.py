"""The chain-rule explorer in marimo (mo.ui.anywidget), in headless Chromium: a live `marimo run` with its kernel,
and the static `marimo export html` page, served offline with marimo's own front-end assets."""
import functools, http.server, os, re, shutil, signal, subprocess, sys, threading
from pathlib import Path

import pytest

from browser import LAYOUT_PROBLEMS, chromium_page, free_port, need_browser, wait_http

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT/'examples'/'explorer_marimo.py'
CDN = re.compile(r'https://cdn\.jsdelivr\.net/npm/@marimo-team/frontend@[^/]+/dist/')


def need_marimo():
    "The `marimo` command beside this Python, after `need_browser()`: skip on a laptop without marimo; under CI=true, fail instead."
    need_browser()
    here = Path(sys.executable).parent
    exe = shutil.which('marimo', path=str(here))
    try: import marimo  # noqa: F401
    except ImportError: missing = 'the Python package marimo'
    else: missing = '' if exe else f'the marimo command (in {here})'
    if missing:
        msg = f'the marimo tests need {missing}: `pip install marimo` (part of the dev install)'
        if os.environ.get('CI') == 'true': pytest.fail(msg + ' (CI=true: browser tests must run)')
        pytest.skip(msg)
    return exe


def w1_unit(page):
    "The hidden unit that w1.g's picture shows (from its title)."
    return int(page.locator('.l08x-ptitle').nth(1).text_content().split('[:, ')[1].split(']')[0])


def explanation_for(page, key, timeout=20_000):
    "Wait until the explanation's heading names `key`, with no 'not precomputed' note left; return its text."
    page.wait_for_function("""(key) => { const find = (r) => { for (const e of r.querySelectorAll('*')) {
          if (e.classList && e.classList.contains('l08x-explain')) return e;
          if (e.shadowRoot) { const f = find(e.shadowRoot); if (f) return f; } } return null; };
        const x = find(document); return x && x.querySelector('.l08x-xhead').textContent.startsWith(key) && !x.querySelector('.l08x-xnote'); }""",
                           arg=key, timeout=timeout)
    return page.locator('.l08x-explain').inner_text()


def click_square(page, nth, row, col):
    c = page.locator('.l08x canvas').nth(nth)
    box, scale = c.bounding_box(), c.bounding_box()['width'] / int(c.get_attribute('width'))
    c.click(position={'x': (col + 0.5) * int(c.get_attribute('data-cw')) * scale, 'y': (row + 0.5) * int(c.get_attribute('data-ch')) * scale})


def test_explorer_in_marimo_with_a_kernel(tmp_path, artifacts):
    "`marimo run`: the explorer draws; a square that was not precomputed and a new learning rate are answered by the kernel."
    exe, port = need_marimo(), free_port()
    log = open(tmp_path/'marimo.log', 'w')
    proc = subprocess.Popen([exe, 'run', str(APP), '--headless', '--port', str(port), '--host', '127.0.0.1', '--no-token'],
                            stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path, start_new_session=True)
    try:
        wait_http(f'http://127.0.0.1:{port}/', timeout=90)
        with chromium_page() as page:
            page.goto(f'http://127.0.0.1:{port}/')
            page.locator('.l08x-factor').first.wait_for(timeout=120_000)
            assert page.locator('.l08x-btn.l08x-selected').text_content() == '∂l1/∂x'
            page.locator('.l08x-factor[data-step="1"]').click()
            assert page.locator('.l08x-btn.l08x-selected').text_content() == '∂l2/∂v'
            page.locator('.l08x-btn[data-step="3"]').click()
            j = w1_unit(page)
            click_square(page, 1, 13, 13)                           # an odd pixel: not precomputed, so the kernel answers
            text = explanation_for(page, f'w1.g[{13 * 28 + 13},{j}] = ')
            assert 'w1.g[i, j] = Σₙ x[n, i] · t.g[n, j]' in text and 'the other 3,995 terms' in text, text
            page.locator('.l08x-lr').fill('0.02'); page.locator('.l08x-lr').press('Enter')
            page.locator('.l08x-result', has_text='lr 0.02: loss 30.1 → ').wait_for(timeout=20_000)
            page.locator('.l08x').focus(); page.keyboard.press('ArrowLeft')          # the keyboard works inside marimo's shadow DOM
            page.locator('.l08x-btn.l08x-selected', has_text='∂ReLU/∂t').wait_for(timeout=5_000)
            page.locator('.l08x').screenshot(path=str(artifacts/'marimo-explorer.png'))
            assert [e for e in page.errors if 'l08x' in e or 'anywidget' in e.lower()] == []
    except Exception:
        print((tmp_path/'marimo.log').read_text()[-3000:]); raise
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try: proc.wait(15)
        except subprocess.TimeoutExpired: os.killpg(proc.pid, signal.SIGKILL)


def test_explorer_in_marimo_static_export_offline(tmp_path, artifacts):
    "`marimo export html` keeps the widget's state: served from 127.0.0.1 with marimo's assets and no other host, it stays clickable."
    exe = need_marimo()
    import marimo
    r = subprocess.run([exe, 'export', 'html', str(APP), '-o', str(tmp_path/'explorer.html')], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    html = (tmp_path/'explorer.html').read_text(encoding='utf-8')
    assert CDN.search(html), 'marimo changed how its export loads its front end'
    (tmp_path/'explorer.html').write_text(CDN.sub('./_marimo/', html), encoding='utf-8')
    shutil.copytree(Path(marimo.__file__).parent/'_static', tmp_path/'_marimo')
    handler = functools.partial(type('Quiet', (http.server.SimpleHTTPRequestHandler,), {'log_message': lambda *a: None}), directory=str(tmp_path))
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    here = f'http://127.0.0.1:{srv.server_address[1]}'
    try:
        for width in (1400, 420):
            with chromium_page(viewport={'width': width, 'height': 1000}) as page:
                outside = []
                page.route('**/*', lambda route: route.continue_() if route.request.url.startswith((here, 'data:', 'blob:'))
                           else (outside.append(route.request.url), route.abort()))
                page.goto(f'{here}/explorer.html')
                page.locator('.l08x-factor').first.wait_for(timeout=60_000)
                page.locator('.l08x-btn[data-step="3"]').click()
                j = w1_unit(page)
                click_square(page, 1, 12, 14)                      # precomputed: explained with no kernel
                text = explanation_for(page, f'w1.g[{12 * 28 + 14},{j}] = ')
                assert 'sum of the terms' in text, text
                assert page.locator('.l08x').evaluate(LAYOUT_PROBLEMS) == []
                page.locator('.l08x').screenshot(path=str(artifacts/f'marimo-export-{width}px.png'))
                assert outside == [], outside
                assert [e for e in page.errors if 'l08x' in e or 'anywidget' in e.lower()] == []
    finally:
        srv.shutdown(); srv.server_close()
