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
