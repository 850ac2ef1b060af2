"""The wheel, installed the way a learner installs it: a clean venv with only the runtime dependencies."""
import subprocess, sys, venv, zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(*cmd, **kw):
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)
    assert r.returncode == 0, f"{cmd} failed:\n{r.stdout}\n{r.stderr}"
    return r.stdout


def du(path):
    return sum(p.stat().st_size for p in Path(path).rglob('*') if p.is_file())


def test_wheel_in_clean_venv(tmp_path, artifacts):
    run(sys.executable, '-m', 'pip', 'wheel', '--no-deps', '-q', '-w', tmp_path/'dist', ROOT)
    whl, = (tmp_path/'dist').glob('lesson08-*.whl')
    names = zipfile.ZipFile(whl).namelist()
    assert 'lesson08/data/mnist_5k.npz' in names
    assert 'lesson08/notebooks/00_data.ipynb' in names and 'lesson08/notebooks/01_forward.ipynb' in names

    env = tmp_path/'venv'
    venv.create(env, with_pip=True)
    py = env/'bin'/'python'
    run(py, '-m', 'pip', 'install', '-q', '-c', ROOT/'constraints.txt', whl)
    installed = run(py, '-m', 'pip', 'list', '--format=freeze').lower()
    for dev_tool in ('nbdev', 'jupyterlab', 'pytest', 'playwright'):
        assert f'\n{dev_tool}==' not in '\n' + installed, f'{dev_tool} should not be a runtime dependency'

    out = run(py, '-c', 'from lesson08.data import get_mnist; xt, yt, xv, yv = get_mnist(); '
                        'print(tuple(xt.shape), tuple(xv.shape), xt.dtype, yt.dtype)', cwd=tmp_path)
    assert out.strip() == '(4000, 784) (1000, 784) torch.float32 torch.int64'
    run(env/'bin'/'lesson08', 'notebooks', tmp_path/'x')
    assert (tmp_path/'x'/'02_backward.ipynb').is_file()
    r = subprocess.run([env/'bin'/'lesson08', 'lab'], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode != 0 and 'pip install jupyterlab' in r.stderr
    r = subprocess.run([env/'bin'/'lesson08', 'docs'], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode != 0 and 'clone of the lesson08 repository' in r.stderr

    sizes = f"wheel {whl.stat().st_size/1e6:.2f} MB, runtime venv {du(env)/1e6:.0f} MB\n"
    (artifacts/'wheel-size.txt').write_text(sizes)
    print(sizes)
