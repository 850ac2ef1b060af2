"""The explorer's front-end helpers (lesson08/explorer.js), unit-tested with node's own test runner: `node --test tests/js/`."""
import os, shutil, subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_explorer_js_unit_tests():
    node = shutil.which('node')
    if node is None:
        msg = 'the front-end unit tests need Node.js 20 or later (apt-get install nodejs)'
        if os.environ.get('CI') == 'true': pytest.fail(msg + ' (CI=true: these tests must run)')
        pytest.skip(msg)
    r = subprocess.run([node, '--test', 'tests/js/'], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    assert '# fail 0' in r.stdout and '# pass 0' not in r.stdout, r.stdout[-2000:]
