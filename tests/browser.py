"""Helpers for the real-browser tests: find Chromium + Playwright, or skip (never under CI=true)."""
import os, shutil, socket, subprocess, time, urllib.request
from contextlib import contextmanager

import pytest

CHROMIUM = os.environ.get('LESSON08_CHROMIUM', '/usr/bin/chromium')
ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic',
        '--no-first-run', '--disable-component-update', '--disable-sync']


def need_browser():
    "Skip the test on a laptop without Chromium or Playwright; under CI=true, fail instead."
    missing = []
    if not (os.path.exists(CHROMIUM) or shutil.which('chromium')): missing.append(f'Chromium ({CHROMIUM})')
    try: import playwright.sync_api  # noqa: F401
    except ImportError: missing.append('the Python package playwright')
    if missing:
        msg = 'browser test needs ' + ' and '.join(missing) + ": install Debian's chromium (`apt-get install chromium`) and `pip install playwright`"
        if os.environ.get('CI') == 'true': pytest.fail(msg + ' (CI=true: browser tests must run)')
        pytest.skip(msg)


@contextmanager
def chromium_page(**ctx):
    "A Playwright page in headless Debian Chromium; collects console errors and failed requests."
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_context(**{'viewport': {'width': 1400, 'height': 1000}, **ctx}).new_page()
        page.errors, page.failed = [], []
        page.on('console', lambda m: m.type == 'error' and page.errors.append(m.text))
        page.on('pageerror', lambda e: page.errors.append(str(e)))
        page.on('requestfailed', lambda r: page.failed.append(f'{r.url} {r.failure}'))
        page.on('response', lambda r: r.status >= 400 and page.failed.append(f'{r.url} HTTP {r.status}'))
        try: yield page
        finally: browser.close()


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]


def wait_http(url, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2): return
        except OSError: time.sleep(0.3)
    raise TimeoutError(f'{url} did not answer within {timeout} s')


# MathJax 3 output: for every formula that has red in it, how many of its fractions (one per chain-rule factor) are red.
RED_FACTORS = """() => [...document.querySelectorAll('mjx-container')].map(c => {
    const red = (e) => getComputedStyle(e).color === 'rgb(255, 0, 0)';
    const fracs = [...c.querySelectorAll('mjx-mfrac')];
    return {fracs: fracs.length, red: fracs.filter(red).length, any: [...c.querySelectorAll('*')].some(red)};
  }).filter(f => f.any)"""

# Scroll the first formula with a red part into the middle of the view (for the screenshot).
SCROLL_TO_RED = """() => { const red = [...document.querySelectorAll('mjx-container')].find(c =>
    [...c.querySelectorAll('*')].some(e => getComputedStyle(e).color === 'rgb(255, 0, 0)'));
  if (red) red.scrollIntoView({block: 'center'}); return !!red; }"""


# The explorer (class .l08x). Click square (row, col) of the nth picture of the first explorer; resolve when the
# explanation's heading starts with `want`; return the milliseconds from the click to the updated view.
CLICK_SQUARE = """async ([nth, row, col, want]) => {
  const root = document.querySelector('.l08x');
  const c = root.querySelectorAll('canvas')[nth], r = c.getBoundingClientRect();
  const w = c.width / Number(c.dataset.cw), h = c.height / Number(c.dataset.ch);
  const t0 = performance.now();
  c.dispatchEvent(new MouseEvent('click', {bubbles: true, clientX: r.left + (col + 0.5) * r.width / w, clientY: r.top + (row + 0.5) * r.height / h}));
  await new Promise((resolve) => { const check = () => {
      const x = root.querySelector('.l08x-xhead');
      if (x && x.textContent.startsWith(want)) resolve(); else requestAnimationFrame(check); }; check(); });
  return performance.now() - t0;
}"""

# The explorer: click the element `sel` inside the first explorer; return the milliseconds until the factor `want` is selected.
CLICK_AND_TIME = """async ([sel, want]) => {
  const root = document.querySelector('.l08x');
  const t0 = performance.now();
  root.querySelector(sel).click();
  await new Promise((resolve) => { const check = () => {
      const s = root.querySelector('.l08x-factor.l08x-selected');
      if (s && s.dataset.step === want) resolve(); else requestAnimationFrame(check); }; check(); });
  return performance.now() - t0;
}"""


# Layout problems of an explorer element: parts sticking out of the widget (outside a scrolling box), sibling parts
# that overlap, and a notes column squeezed to a word per line. An empty list means a clean layout.
LAYOUT_PROBLEMS = """(root) => {
  const R = (e) => e.getBoundingClientRect(), box = R(root), out = [];
  const shown = (e) => { const r = R(e); return r.width > 0 && r.height > 0; };
  const scrolls = (e) => { for (let p = e.parentElement; p && p !== root; p = p.parentElement)
      if (['auto', 'scroll', 'hidden'].includes(getComputedStyle(p).overflowX)) return true; return false; };
  for (const e of root.querySelectorAll('*')) {
    if (!shown(e) || scrolls(e)) continue;
    const r = R(e), col = e.parentElement.closest('.l08x-left, .l08x-right'), c = col ? R(col) : box;
    for (const [name, b] of [['the widget', box], ['its column', c]])
      if (r.right > b.right + 1 || r.left < b.left - 1) { out.push(`${e.tagName}.${e.className} sticks out of ${name} (${Math.round(r.left)}-${Math.round(r.right)} in ${Math.round(b.left)}-${Math.round(b.right)})`); break; }
  }
  const groups = [':scope > *', '.l08x-formula > .l08x-factor', '.l08x-nav > button', '.l08x-rates > *', '.l08x-diagram > *',
                  '.l08x-ops td', '.l08x-body > *', '.l08x-panels > *', '.l08x-terms td', '.l08x-code > *'];
  for (const sel of groups) {
    const els = [...root.querySelectorAll(sel)].filter(shown);
    for (let i = 0; i < els.length; i++) for (let j = i + 1; j < els.length; j++) {
      const a = R(els[i]), b = R(els[j]);
      const dx = Math.min(a.right, b.right) - Math.max(a.left, b.left), dy = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
      if (dx > 1 && dy > 1) out.push(`${sel}: "${els[i].textContent.slice(0, 30)}" overlaps "${els[j].textContent.slice(0, 30)}"`);
    }
  }
  for (const n of root.querySelectorAll('.l08x-note')) if (shown(n) && R(n).width < 120) out.push(`a note is ${Math.round(R(n).width)} px wide: "${n.textContent.slice(0, 30)}"`);
  return out;
}"""


# ---- accessibility (axe-core), keyboard and width checks of the explorer ------------------------------------------------

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# axe-core is vendored with the docs site (docs/package.json, docs/build.py): the same file serves the site and JupyterLab tests
AXE_FILES = [os.path.join(ROOT, 'docs', '_static', 'vendor', 'axe.min.js'),
             os.path.join(ROOT, 'docs', 'node_modules', 'axe-core', 'axe.min.js')]
# A click on a factor or a precomputed square is answered in the page: even a busy 2-core machine updates well within this.
LATENCY_MS = 250


def axe_file():
    "axe.min.js from the vendored docs folder (vendoring it with `npm install` first if needed), else skip (fail under CI=true)."
    for f in AXE_FILES:
        if os.path.exists(f): return f
    if shutil.which('npm'):
        import importlib.util
        spec = importlib.util.spec_from_file_location('lesson08_docs_build', os.path.join(ROOT, 'docs', 'build.py'))
        build = importlib.util.module_from_spec(spec); spec.loader.exec_module(build)
        build.vendor()
        for f in AXE_FILES:
            if os.path.exists(f): return f
    msg = 'the accessibility checks need axe-core, vendored by the docs build with npm (apt-get install npm; make docs)'
    if os.environ.get('CI') == 'true': pytest.fail(msg + ' (CI=true: browser tests must run)')
    pytest.skip(msg)


_AXE_RUN = """async (sel) => {
  const ctx = sel ? {include: [...document.querySelectorAll(sel)]} : document;
  if (sel && !ctx.include.length) return [{id: 'no-element', impact: 'critical', help: 'nothing matches ' + sel, nodes: []}];
  const r = await axe.run(ctx, {resultTypes: ['violations']});
  return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical').map(v => ({id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => `${n.target.join(' ')}: ${(n.failureSummary || '').replace(/\\s+/g, ' ').slice(0, 300)}`)}));
}"""


def axe_violations(page, selector=None, ignore=()):
    """Serious and critical axe-core violations on the page, or only inside the elements `selector` matches.
    `ignore`: (rule id, text in the node's selector) pairs of known violations in markup that is not ours (a theme's)."""
    if not page.evaluate("() => !!window.axe"): page.add_script_tag(path=axe_file())
    found = page.evaluate(_AXE_RUN, selector)
    for v in found: v['nodes'] = [n for n in v['nodes'] if not any(v['id'] == rule and part in n.split(': ')[0] for rule, part in ignore)]
    return [v for v in found if v['nodes'] or v['id'] == 'no-element']


def describe_violations(found):
    "One line per violation and per offending node, for an assertion message."
    return '\n'.join(f"{v['impact']} {v['id']} ({v['help']}):\n" + '\n'.join(f'    {n}' for n in v['nodes'][:8]) +
                     (f"\n    ... and {len(v['nodes']) - 8} more" if len(v['nodes']) > 8 else '') for v in found)


# Where the keyboard focus is, through shadow roots: the control's kind and which explorer/factor/picture it is.
ACTIVE = """() => {
  let a = document.activeElement;
  while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement;
  if (!a || a === document.body) return {tag: 'BODY'};
  const root = a.closest('.l08x'), all = [...document.querySelectorAll('.l08x')];
  return {tag: a.tagName, cls: typeof a.className === 'string' ? a.className : '', step: a.dataset ? (a.dataset.step ?? null) : null,
          explorer: root ? all.indexOf(root) : -1, canvas: root && a.tagName === 'CANVAS' ? [...root.querySelectorAll('canvas')].indexOf(a) : -1,
          label: a.getAttribute('aria-label') || a.textContent.slice(0, 40)};
}"""

# A focusable-by-script marker just before the nth explorer, so that Tab starts there.
TAB_START = """(nth) => {
  const root = document.querySelectorAll('.l08x')[nth];
  let m = document.getElementById('l08x-test-start');
  if (!m) { m = document.createElement('span'); m.id = 'l08x-test-start'; m.tabIndex = -1; m.textContent = ' '; }
  root.parentElement.insertBefore(m, root); m.focus();
  return document.activeElement === m;
}"""

# The diagram (and the whole widget) of every explorer: horizontal overflow, in px (scrollWidth - clientWidth).
H_SCROLL = """() => [...document.querySelectorAll('.l08x')].map((r, i) => {
  const d = r.querySelector('.l08x-diagram');
  return {explorer: i, diagram: d ? d.scrollWidth - d.clientWidth : null, widget: r.scrollWidth - r.clientWidth,
          diagram_width: d ? d.clientWidth : null};
})"""


def tab_until(page, want, what, presses=60, key='Tab'):
    "Press Tab until the focused element satisfies `want(ACTIVE)`; return it, or fail saying what was reached."
    seen = []
    for _ in range(presses):
        page.keyboard.press(key)
        a = page.evaluate(ACTIVE)
        if want(a): return a
        seen.append(f"{a['tag']}.{a.get('cls', '')}[{a.get('label', '')}]")
    raise AssertionError(f'{presses} presses of {key} never reached {what}; focus went through: ' + ' -> '.join(seen[-20:]))


def selected_step(page, nth=0):
    return page.evaluate("(n) => document.querySelectorAll('.l08x')[n].querySelector('.l08x-factor.l08x-selected').dataset.step", nth)


def keyboard_path(page, nth=0):
    """Keyboard only, in the nth explorer: Tab to a formula factor, Enter selects its step; Tab to a gradient picture,
    arrows move its cursor, Enter explains the square under it. The focus stays on the pressed control after each redraw.
    Returns what it saw (for the artefacts)."""
    same = lambda a, b: all(a.get(k) == b.get(k) for k in ('tag', 'explorer', 'step', 'canvas'))
    assert page.evaluate(TAB_START, nth), 'could not put the focus just before the explorer'
    before = selected_step(page, nth)
    want = '1' if before != '1' else '2'          # a step whose first picture has rows and columns (the arrows move both ways)
    f = tab_until(page, lambda a: a.get('explorer') == nth and 'l08x-factor' in a.get('cls', '') and a.get('step') == want,
                  f'the formula factor of step {want}')
    page.keyboard.press('Enter')
    page.wait_for_function("([n, s]) => document.querySelectorAll('.l08x')[n].querySelector('.l08x-factor.l08x-selected').dataset.step === s",
                           arg=[nth, f['step']], timeout=5_000)
    page.wait_for_timeout(100)            # any redraw after the selection has happened
    a = page.evaluate(ACTIVE)
    assert same(a, f), f'after Enter on factor {f["step"]} the focus moved to {a}'
    c = tab_until(page, lambda a: a.get('explorer') == nth and a.get('canvas', -1) >= 0, 'a gradient picture')
    start = page.evaluate(CURSOR, [nth, c['canvas']])
    for key in ('ArrowRight', 'ArrowRight', 'ArrowDown', 'ArrowRight', 'ArrowLeft'):
        page.keyboard.press(key)
        a = page.evaluate(ACTIVE)
        assert same(a, c), f'after {key} on picture {c["canvas"]} the focus moved to {a}'
    cur = page.evaluate(CURSOR, [nth, c['canvas']])
    assert cur and cur != start, f'the arrows did not move the cursor: {start} -> {cur}'
    page.keyboard.press('Enter')
    page.wait_for_function("(n) => { const x = document.querySelectorAll('.l08x')[n].querySelector('.l08x-xhead'); return x && x.textContent.includes(' = '); }",
                           arg=nth, timeout=5_000)
    page.wait_for_timeout(300)            # Enter must not also start playing (that would change the step)
    head = page.evaluate("(n) => document.querySelectorAll('.l08x')[n].querySelector('.l08x-xhead').textContent", nth)
    a = page.evaluate(ACTIVE)
    assert same(a, c), f'after Enter on picture {c["canvas"]} the focus moved to {a}'
    assert selected_step(page, nth) == f['step'], f'Enter on the picture changed the step to {selected_step(page, nth)}'
    assert head.startswith(cur['name'] + ' = '), f'the cursor is on {cur} but the explanation is of: {head}'
    return {'factor': f, 'picture': c, 'cursor': cur, 'explanation': head}


# The square under the keyboard cursor of the nth explorer's picture `c`: {row, col, name} where name is how the
# explanation's heading names it (e.g. 'w1.g[336,7]'). Depends on the front end's markup (lesson08/explorer.js).
CURSOR = """([n, c]) => {
  const cv = document.querySelectorAll('.l08x')[n].querySelectorAll('canvas')[c];
  return cv.dataset.cursor ? {cursor: cv.dataset.cursor, name: cv.dataset.cursorName} : null;
}"""
