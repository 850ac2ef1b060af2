"""Simulate a learner's Mac or Windows laptop on Linux, for lesson08's own code (put this folder on PYTHONPATH).

LESSON08_SIMULATE=windows hides the `resource` module (Windows has none); both windows and macos make every
open() of /proc/... by a lesson08 module raise FileNotFoundError, as it does where /proc does not exist.
Other libraries keep working as they do on Linux: this simulates what lesson08 can't rely on, not a whole OS."""
import builtins, io, os, sys

_system = os.environ.get('LESSON08_SIMULATE', 'windows')
if _system == 'windows': sys.modules['resource'] = None          # `import resource` raises ImportError

_open = builtins.open

def _from_lesson08():
    f = sys._getframe(2)
    for _ in range(4):                                              # the caller, or pathlib/io just above it
        if f is None: return False
        if f.f_globals.get('__name__', '').startswith('lesson08'): return True
        f = f.f_back
    return False

def _guarded(file, *args, **kwargs):
    if isinstance(file, (str, os.PathLike)) and os.fspath(file).startswith('/proc') and _from_lesson08():
        raise FileNotFoundError(2, f'No such file or directory (no /proc on simulated {_system})', os.fspath(file))
    return _open(file, *args, **kwargs)

builtins.open = io.open = _guarded
