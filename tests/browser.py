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
        page = browser.new_context(viewport={'width': 1400, 'height': 1000}, **ctx).new_page()
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
