"""The README's promises: its Python examples run as written, and every public import path it names still works
after code moves (lesson08.data.get_mnist, lesson08.forward.init_params, ...)."""
import importlib, re, subprocess, sys
from pathlib import Path

README = (Path(__file__).resolve().parent.parent/'README.md').read_text(encoding='utf-8')


def test_the_python_examples_run(tmp_path):
    blocks = re.findall(r'```python\n(.*?)```', README, re.S)
    assert blocks, 'no Python example in the README'
    for code in blocks:
        r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, cwd=tmp_path, timeout=300)
        assert r.returncode == 0, f"{code}\n{r.stderr[-3000:]}"


def test_every_named_import_path_works():
    named = set(re.findall(r'\blesson08\.(\w+)\.(\w+)\b', README)) | set(re.findall(r'from lesson08\.(\w+) import (\w+)', README))
    named = {(m, n) for m, n in named if not n.islower() or n not in ('py', 'ipynb')}
    assert ('data', 'get_mnist') in named and ('forward', 'init_params') in named
    for mod, name in sorted(named):
        m = importlib.import_module(f'lesson08.{mod}')
        assert hasattr(m, name), f'lesson08.{mod}.{name}, named in the README, is gone'
