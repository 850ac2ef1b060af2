"""Versions that must move together: the Python anywidget with the front end the docs vendor; marimo with the page
layout its test relies on; the runtime requirements with no dev tool in them."""
import json, re
from configparser import ConfigParser
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
cfg = ConfigParser(delimiters=['=']); cfg.read(ROOT/'settings.ini'); cfg = cfg['DEFAULT']


def bounds(reqs, name):
    "(lowest, first excluded) of `name` in a requirements string, as version tuples; both bounds must be there."
    spec, = [r for r in reqs.split() if re.match(rf'{name}[<>=]', r)]
    lo, hi = re.fullmatch(rf'{name}>=([\d.]+),<([\d.]+)', spec).groups()
    return tuple(map(int, lo.split('.'))), tuple(map(int, hi.split('.')))


def v(s): return tuple(int(x) for x in re.match(r'[\d.]+', s).group().rstrip('.').split('.'))


def test_anywidget_is_pinned_with_the_vendored_front_end():
    lo, hi = bounds(cfg['requirements'], 'anywidget')
    vendored = v(json.loads((ROOT/'docs'/'package.json').read_text())['dependencies']['anywidget'])
    assert lo <= vendored < hi and hi <= (lo[0], lo[1] + 1), (lo, hi, vendored)   # one minor version: the docs' front end
    assert lo <= v(version('anywidget')) < hi


def test_marimo_is_bounded_and_installed_within_the_bounds():
    lo, hi = bounds(cfg['dev_requirements'], 'marimo')
    assert lo <= v(version('marimo')) < hi


def test_fastcore_is_a_dev_tool_only():
    assert not any(r.startswith('fastcore') for r in cfg['requirements'].split())
    assert any(r.startswith('fastcore') for r in cfg['dev_requirements'].split())
    lib = ' '.join(p.read_text() for p in (ROOT/'lesson08').glob('*.py'))
    assert not re.search(r'^\s*(from|import) fastcore', lib, re.M)
