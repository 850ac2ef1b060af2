"""Fail if `nbdev_export` would change lesson08/: the library must always match the notebooks.

Snapshots every .py file in lesson08/, runs nbdev_export, and compares. Works without git.
"""
import subprocess, sys
from pathlib import Path

lib = Path(__file__).resolve().parent.parent/'lesson08'
snap = lambda: {p.relative_to(lib): p.read_bytes() for p in lib.rglob('*.py') if '__pycache__' not in p.parts}
before = snap()
subprocess.run([str(Path(sys.executable).parent/'nbdev_export')], check=True, cwd=lib.parent)
after = snap()
changed = sorted(str(p) for p in before.keys() | after.keys() if before.get(p) != after.get(p))
if changed:
    sys.exit("nbdev_export changed lesson08/ (" + ', '.join(changed) + "): the library was out of sync with nbs/. "
             "Edit the notebooks, run nbdev_export, and commit both.")
print(f"lesson08/ matches the notebooks ({len(after)} modules).")
