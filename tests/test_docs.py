"""The documentation site: build it, serve it on 127.0.0.1, and check every page in headless Chromium."""
import functools, http.server, os, re, shutil, subprocess, sys, threading
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlparse

import pytest

from browser import (CLICK_AND_TIME, CLICK_SQUARE, H_SCROLL, LATENCY_MS, LAYOUT_PROBLEMS, RED_FACTORS, SCROLL_TO_RED, axe_violations,
                     chromium_page, describe_violations, keyboard_path, need_browser)

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT/'docs'/'_build'/'html'


@pytest.fixture(scope='module')
def site():
    "Build the site once for this module (vendoring, executing the notebooks, Sphinx)."
    if shutil.which('npm') is None:
        msg = 'the docs build needs npm to vendor MathJax and the widget manager (apt-get install npm)'
        if os.environ.get('CI') == 'true': pytest.fail(msg + ' (CI=true: docs tests must run)')
        pytest.skip(msg)
    # LESSON08_DOCS_REUSE=1 reuses the executed notebooks of an earlier build (quicker when iterating).
    args = ['--no-execute'] if os.environ.get('LESSON08_DOCS_REUSE') == '1' and (ROOT/'docs'/'course').is_dir() else []
    r = subprocess.run([Path(sys.executable).parent/'lesson08', 'docs', *args], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    print(r.stdout.strip().split('\n')[-1])
    return SITE


@pytest.fixture(scope='module')
def server(site):
    handler = functools.partial(type('Quiet', (http.server.SimpleHTTPRequestHandler,), {'log_message': lambda *a: None}), directory=str(site))
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f'http://127.0.0.1:{srv.server_address[1]}/'
    srv.shutdown(); srv.server_close()


def pages(site):
    return sorted(p for p in site.rglob('*.html') if '_static' not in p.parts and p.name not in ('genindex.html',))


class Refs(HTMLParser):
    "Collects script src, link href, a href and element ids of one page."
    def __init__(self):
        super().__init__(); self.assets, self.links, self.ids = [], [], set()
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if 'id' in a: self.ids.add(a['id'])
        if tag == 'script' and a.get('src'): self.assets.append(a['src'])
        if tag == 'link' and a.get('href') and a.get('rel') not in ('canonical',): self.assets.append(a['href'])
        if tag in ('img', 'source', 'iframe') and a.get('src'): self.assets.append(a['src'])
        if tag == 'a' and a.get('href'): self.links.append(a['href'])


def parse(path):
    r = Refs(); r.feed(path.read_text(encoding='utf-8')); return r


def test_every_course_notebook_has_a_page(site):
    nbs = sorted(p.stem for p in (ROOT/'nbs').glob('[0-9A]*.ipynb'))
    assert [p for p in nbs if not (site/'course'/f'{p}.html').exists()] == []
    assert (site/'index.html').exists() and (site/'course'/'api.html').exists() and (site/'searchindex.js').exists()


def test_no_external_requests_in_html_or_css(site):
    off_site = re.compile(r'^(https?:)?//', re.I)
    bad = [f'{p.relative_to(site)}: {src}' for p in pages(site) for src in parse(p).assets if off_site.match(src)]
    for css in site.rglob('*.css'):
        for url in re.findall(r'url\(\s*[\'"]?([^\'")]+)', css.read_text(encoding='utf-8', errors='replace')):
            if off_site.match(url): bad.append(f'{css.relative_to(site)}: {url}')
    assert bad == []


def test_internal_links_and_anchors_resolve(site):
    "Every relative link points at a page that exists, and every #anchor at an id on that page."
    ids, broken = {}, []
    for p in pages(site):
        for href in parse(p).links:
            u = urlparse(href)
            if u.scheme or href.startswith('//') or href.startswith('mailto:'): continue
            target = (p.parent/unquote(u.path)).resolve() if u.path else p
            if not target.exists(): broken.append(f'{p.relative_to(site)} -> {href}'); continue
            if u.fragment and target.suffix == '.html':
                if target not in ids: ids[target] = parse(target).ids
                if u.fragment not in ids[target]: broken.append(f'{p.relative_to(site)} -> {href} (no such id)')
    assert broken == []


def test_api_reference_covers_every_export(site):
    import importlib
    api = (site/'course'/'api.html').read_text(encoding='utf-8')
    for mod in ('data', 'download', 'matmul', 'forward', 'guards', 'backward', 'gradcheck', 'layers', 'module', 'torch_nn', 'explorer', 'bench', 'train', 'engine',
                'cli', 'checker'):
        for name in importlib.import_module(f'lesson08.{mod}').__all__:
            assert f'<code>{name}</code>' in api, f'{mod}.{name} missing from the API reference'


def test_pages_in_chromium(site, server, artifacts):
    need_browser()
    with chromium_page() as page:
        for p in pages(site):
            rel = p.relative_to(site).as_posix()
            page.errors.clear(); page.failed.clear()
            page.goto(urljoin(server, rel), wait_until='load')
            if page.locator('.math, mjx-container').count():
                page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=20_000)
                page.evaluate("() => MathJax.startup.promise")
            page.wait_for_load_state('networkidle')
            title = page.title()
            assert title and title.split(' — ')[0].strip(), f'{rel} has no title'
            text = page.evaluate("() => document.querySelector('main, article, body').innerText")
            assert '$$' not in text, f'{rel} shows raw $$ math'
            if rel in ('course/02_forward.html', 'course/03_backward.html', 'course/06_module.html'):
                assert page.locator('mjx-container').count() > 3, f'{rel}: formulas not typeset'
            assert page.failed == [], f'{rel}: failed requests {page.failed}'
            assert page.errors == [], f'{rel}: console errors {page.errors}'
        page.goto(urljoin(server, 'index.html')); page.screenshot(path=str(artifacts/'docs-index.png'), full_page=False)
        page.goto(urljoin(server, 'course/03_backward.html')); page.wait_for_load_state('networkidle')
        page.evaluate("() => MathJax.startup.promise")
        page.screenshot(path=str(artifacts/'docs-backward.png'))


def test_offline_search_finds_lin_grad(site, server):
    need_browser()
    with chromium_page() as page:
        page.goto(urljoin(server, 'search.html?q=lin_grad'))
        page.wait_for_selector('#search-results li a, ul.search li a', timeout=20_000)
        hrefs = page.eval_on_selector_all('#search-results li a, ul.search li a', 'els => els.map(e => e.getAttribute("href"))')
        assert any('03_backward' in h for h in hrefs), hrefs
        assert page.failed == [] and page.errors == []


def test_explorer_is_interactive_without_a_kernel(site, server, artifacts):
    need_browser()
    with chromium_page() as page:
        page.goto(urljoin(server, 'course/09_explorer.html'))
        page.wait_for_function("document.querySelectorAll('.l08x .l08x-factor').length >= 10", timeout=30_000)
        root = page.locator('.l08x').first
        root.scroll_into_view_if_needed()
        cur = lambda sel: root.locator(sel).first.text_content()
        assert cur('.l08x-btn.l08x-selected') == '∂l1/∂x'
        root.locator('.l08x-factor[data-step="1"]').click()
        assert cur('.l08x-btn.l08x-selected') == '∂l2/∂v'
        assert 'inp.g = out.g @ self.w.t()' in cur('.l08x-line.l08x-current')
        assert root.locator('.l08x-shapes').all_text_contents() == ['(N,1) @ (50,1)ᵀ → (N,50)', '(N,50)ᵀ @ (N,1) → (50,1)', '(N,1).sum(0) → (1)']
        root.locator('.l08x-next').click()
        assert cur('.l08x-btn.l08x-selected') == '∂ReLU/∂t' and 'inp > 0' in cur('.l08x-line.l08x-current')
        root.locator('.l08x-prev').click(); root.locator('.l08x-prev').click()
        assert cur('.l08x-btn.l08x-selected') == '∂MSE/∂u'
        assert root.locator('.l08x-shapes').all_text_contents() == ['(N,1) − (N,1) → (N,1)']
        root.locator('.l08x-factor[data-step="3"]').click()
        root.screenshot(path=str(artifacts/'docs-explorer-widget.png'))
        page.screenshot(path=str(artifacts/'docs-explorer.png'))
        assert page.failed == [] and page.errors == [], (page.failed, page.errors)


def first_explorer(page, server, width=1400):
    page.set_viewport_size({'width': width, 'height': 1000})
    page.goto(urljoin(server, 'course/09_explorer.html'))
    page.wait_for_function("document.querySelectorAll('.l08x .l08x-factor').length >= 10", timeout=30_000)
    root = page.locator('.l08x').first
    root.scroll_into_view_if_needed()
    return root


def test_explorer_explains_one_number_without_a_kernel(site, server, artifacts):
    "Click a square of w1.g's picture: the precomputed explanation, terms summing to the value; an odd square falls back, saying so."
    need_browser()
    with chromium_page() as page:
        root = first_explorer(page, server)
        assert root.locator('.l08x-hint').text_content().startswith('Click a square')
        title = root.locator('.l08x-ptitle').nth(1).text_content()
        j = int(re.match(r'w1\.g\[:, (\d+)\] as 28×28', title).group(1))
        ms = page.evaluate(CLICK_SQUARE, [1, 12, 14, f'w1.g[{12 * 28 + 14},{j}] = '])      # every other pixel was precomputed
        text = root.locator('.l08x-explain').inner_text()
        assert f'w1.g[i, j] = Σₙ x[n, i] · t.g[n, j]' in text and 'the other 3,995 terms' in text, text
        total = re.search(r'sum of the terms (\S+) ≈ the gradient.s value (\S+)', text)
        assert total and abs(float(total.group(1)) - float(total.group(2))) <= 2e-3 * abs(float(total.group(2))), text
        assert len(root.locator('.l08x-term').all()) == 6          # the 5 largest and the rest
        root.screenshot(path=str(artifacts/'docs-explorer-one-number.png'))
        # an odd pixel was not precomputed: the nearest one is shown, and with no kernel the note says so
        page.evaluate(CLICK_SQUARE, [1, 13, 13, 'w1.g['])
        page.wait_for_function("document.querySelector('.l08x-xnote') && document.querySelector('.l08x-xnote').textContent.includes('no answer from the kernel')", timeout=5_000)
        assert root.locator('.l08x-xhead').text_content().startswith(f'w1.g[{12 * 28 + 12},{j}] = ')
        # a bias, and a row of an activation's gradient
        ms_b = page.evaluate(CLICK_SQUARE, [2, 0, j, f'b1.g[{j}] = '])
        assert 'b1.g[j] = Σₙ t.g[n, j]' in root.locator('.l08x-explain').inner_text()
        root.locator('.l08x-btn[data-step="2"]').click()
        page.evaluate(CLICK_SQUARE, [0, 1, 3, 't.g[1,3] = '])
        assert 't.g[n, j] = v.g[n, j] · 1[t[n, j] > 0]' in root.locator('.l08x-explain').inner_text()
        factor_ms = [page.evaluate(CLICK_AND_TIME, ['.l08x-factor[data-step="1"]', '1']), page.evaluate(CLICK_AND_TIME, ['.l08x-factor[data-step="3"]', '3'])]
        report = (f"click to updated view on the docs site (ms): precomputed square w1.g {ms:.1f}, b1.g {ms_b:.1f}; "
                  f"factors {', '.join(f'{t:.1f}' for t in factor_ms)}; bound {LATENCY_MS}")
        (artifacts/'docs-explorer-latency.txt').write_text(report + '\n')
        print(report)
        assert max(ms, ms_b, *factor_ms) < LATENCY_MS, report
        assert page.failed == [] and page.errors == [], (page.failed, page.errors)


def test_explorer_plays_and_steps_from_the_keyboard(site, server, artifacts):
    "▷ play runs the backward pass from the loss to x; ← → step and Enter plays with the widget focused; controls are labelled."
    need_browser()
    with chromium_page() as page:
        root = first_explorer(page, server)
        sel = lambda: int(root.locator('.l08x-btn.l08x-selected').get_attribute('data-step'))
        for b in root.locator('button').all(): assert b.get_attribute('aria-label'), b.text_content()
        assert root.locator('canvas').first.get_attribute('aria-label')
        root.locator('.l08x-btn[data-step="0"]').click()
        seen = []
        root.locator('.l08x-play').click()
        for _ in range(60):
            if not seen or seen[-1] != sel(): seen.append(sel())
            if seen[-1] == 3 and 'play' in root.locator('.l08x-play').text_content(): break
            page.wait_for_timeout(100)
        assert seen == [0, 1, 2, 3], seen                        # every step, in order, then it stops by itself
        fresh = root.locator('.l08x-grad.l08x-fresh').all_text_contents()
        assert '← x.g (N,784)' in fresh
        root.focus()
        page.keyboard.press('ArrowLeft'); assert sel() == 2
        page.keyboard.press('ArrowLeft'); page.keyboard.press('ArrowLeft'); assert sel() == 0
        page.keyboard.press('ArrowLeft'); assert sel() == 0          # stays at the loss
        page.keyboard.press('ArrowRight'); assert sel() == 1
        page.keyboard.press('Enter')
        page.wait_for_function("document.querySelector('.l08x .l08x-btn.l08x-selected').dataset.step === '3'", timeout=10_000)
        assert page.failed == [] and page.errors == [], (page.failed, page.errors)


def test_explorer_one_step_of_learning_without_a_kernel(site, server):
    "The precomputed rates show the loss before and after one step; another rate says no kernel answered, and what to do."
    need_browser()
    with chromium_page() as page:
        root = first_explorer(page, server)
        result = lambda: root.locator('.l08x-result').text_content()
        assert re.match(r'lr 0\.01: loss 30\.1 → 17\.\d+ \(-42\.\d%\)$', result()), result()
        root.locator('.l08x-rate', has_text='0.1').last.click()
        assert 'the step overshoots, and the loss goes up' in result(), result()
        root.locator('.l08x-lr').fill('0.02'); root.locator('.l08x-lr').press('Enter')
        page.wait_for_function("document.querySelector('.l08x-result').textContent.includes('no answer from the kernel')", timeout=5_000)


@pytest.mark.parametrize('width', [420, 1400])
def test_explorer_layout(site, server, artifacts, width):
    "At 420 and 1400 px, every step of both explorers, with an explanation open, has no overlap and nothing sticking out."
    need_browser()
    with chromium_page() as page:
        first_explorer(page, server, width)
        for e in range(page.locator('.l08x').count()):
            root = page.locator('.l08x').nth(e)
            for k in range(root.locator('.l08x-btn').count()):
                root.locator(f'.l08x-btn[data-step="{k}"]').click()
                root.locator('canvas').first.click(position={'x': 2, 'y': 2})
                problems = root.evaluate(LAYOUT_PROBLEMS)
                assert problems == [], (e, k, problems)
        root = page.locator('.l08x').first
        # no tinted box behind the formula's function names (the diagram's boxes have a class of their own)
        assert set(root.locator('.l08x-formula .l08x-fn').evaluate_all("es => es.map(e => getComputedStyle(e).backgroundColor)")) == {'rgba(0, 0, 0, 0)'}
        if width == 1400:   # the diagram reads from input to loss, wrapping onto rows (left to right, top to bottom), never scrolling sideways
            boxes = root.locator('.l08x-diagram > .l08x-node').evaluate_all("es => es.map(e => { const r = e.getBoundingClientRect(); return [Math.round(r.top), Math.round(r.left)]; })")
            assert all(b[0] > a[0] or (b[0] == a[0] and b[1] > a[1]) for a, b in zip(boxes, boxes[1:])), boxes
            assert root.locator('.l08x-diagram').evaluate("d => d.scrollWidth - d.clientWidth") <= 1
        root.locator('.l08x-btn[data-step="3"]').click()
        root.locator('canvas').nth(1).click(position={'x': 100, 'y': 100})
        root.screenshot(path=str(artifacts/f'docs-explorer-{width}px.png'))
        assert page.errors == [], page.errors



# Serious violations of the Sphinx theme's own markup, not ours to fix here: (axe rule, a selector in the node's target).
THEME_KNOWN = [('label-content-name-mismatch', '.search-button-field')]     # the search button's "Search ⌘K" text vs its aria-label


def test_explorer_has_no_serious_axe_violations(site, server, artifacts):
    "axe-core (vendored, served from the site) finds no serious or critical violation in the explorers, nor on their whole page."
    need_browser()
    import json
    with chromium_page() as page:
        root = first_explorer(page, server)
        page.wait_for_load_state('networkidle')
        page.evaluate("() => window.MathJax && MathJax.startup && MathJax.startup.promise")
        report = {'opened': axe_violations(page, '.l08x')}
        # another step, with an explanation open and a learning step shown: the parts drawn later are checked too
        root.locator('.l08x-factor[data-step="2"]').click()
        page.evaluate(CLICK_SQUARE, [0, 1, 3, 't.g[1,3] = '])
        root.locator('.l08x-rate', has_text='0.1').last.click()
        report['explaining'] = axe_violations(page, '.l08x')
        report['whole page'] = axe_violations(page, ignore=THEME_KNOWN)
        (artifacts/'axe-docs-explorer.json').write_text(json.dumps(report, indent=1, ensure_ascii=False))
        msg = '\n'.join(f'{k}:\n{describe_violations(v)}' for k, v in report.items() if v)
        assert all(v == [] for v in report.values()), 'axe-core on course/09_explorer.html:\n' + msg


def test_explorer_keyboard_only_path(site, server, artifacts):
    "Keyboard only: Tab to a factor, Enter; Tab to a gradient picture, arrows, Enter explains the square under the cursor; focus kept."
    need_browser()
    with chromium_page() as page:
        first_explorer(page, server)
        seen = keyboard_path(page)
        page.locator('.l08x').first.screenshot(path=str(artifacts/'docs-explorer-keyboard.png'))
        print(seen)
        assert page.failed == [] and page.errors == [], (page.failed, page.errors)


def test_explorer_diagram_fits_from_760px(site, server, artifacts):
    "At 760, 1024 and 1280 px the diagram of each explorer fits its width: no horizontal scroll (nor any in the widget)."
    need_browser()
    bad, seen = [], []
    with chromium_page() as page:
        for width in (760, 1024, 1280):
            first_explorer(page, server, width)
            for m in page.evaluate(H_SCROLL):
                seen.append(f"{width}px explorer {m['explorer']}: diagram {m['diagram_width']} px wide, overflow {m['diagram']} px; widget overflow {m['widget']} px")
                if m['diagram'] is None or m['diagram'] > 1 or m['widget'] > 1: bad.append(seen[-1])
            page.locator('.l08x .l08x-diagram').first.screenshot(path=str(artifacts/f'docs-explorer-diagram-{width}px.png'))
    (artifacts/'docs-explorer-widths.txt').write_text('\n'.join(seen) + '\n')
    assert bad == [], bad


def page_text(site, name):
    return re.sub(r'<[^>]+>', '', (site/'course'/f'{name}.html').read_text(encoding='utf-8'))


def test_pages_show_the_code_they_teach(site):
    "The exported functions' code is on the page, not only their signatures; the solutions never are."
    import html
    backward, module = html.unescape(page_text(site, '03_backward')), html.unescape(page_text(site, '06_module'))
    assert 'def lin_grad(inp, out, w, b):' in backward and 'def relu_grad(inp, out):' in backward
    assert 'def bwd(self, out, inp):' in module
    assert not (site/'course'/'solutions.html').exists()
    practice = html.unescape(page_text(site, '11_practice'))
    assert 'raise NotImplementedError' in practice and 'torch.einsum(' not in practice


def test_benchmark_page_draws_its_chart(site):
    bench = (site/'course'/'10_benchmark.html').read_text(encoding='utf-8')
    assert '&lt;Figure size' not in bench and '<Figure size' not in bench
    assert 'wrote /' not in bench
    assert len(re.findall(r'<img[^>]+src="[^"]*\.png"', bench)) >= 2


def test_one_red_factor_on_the_docs_site(site, server, artifacts):
    "Each highlighted chain rule on the backward page has exactly one red factor of four (MathJax 3 in Chromium)."
    need_browser()
    with chromium_page() as page:
        page.goto(urljoin(server, 'course/03_backward.html'))
        page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=20_000)
        page.evaluate("() => MathJax.startup.promise")
        found = page.evaluate(RED_FACTORS)
        assert page.evaluate(SCROLL_TO_RED); page.wait_for_timeout(300)
        page.screenshot(path=str(artifacts/'docs-red-factor.png'))
    assert found == [{'fracs': 4, 'red': 1, 'any': True}] * 4, found
