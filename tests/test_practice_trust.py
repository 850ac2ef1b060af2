"""Practice you can trust: a pass is never lost, a ✓ holds on any input the checker might draw,
and learner code that hangs or crashes gets a one-line verdict.

Each wrong solution below got ✓ (or crashed the checker, or lost a pass) before the checker was hardened."""
import json, os, shutil, subprocess, sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from lesson08 import checker, solutions
from lesson08.checker import check, exercise, progress
from lesson08.module import Module

NBS = Path(__file__).parent.parent/'nbs'


@pytest.fixture(autouse=True)
def in_tmp_folder(tmp_path, monkeypatch):
    "Each test has its own folder for the progress file, and a fresh session."
    monkeypatch.chdir(tmp_path)
    checker.PROGRESS.clear(); getattr(checker, '_WARNED', set()).clear()


def fails(solution, name):
    r = check(solution, name)
    assert r.status == 'failing' and '✓' not in r.message, r.message
    return r.message


def saved():
    return json.loads(Path(checker.PROGRESS_FILE).read_text())['exercises']


# --- 1. a pass is never lost ---------------------------------------------------------------------------
def stub(inp, targ): raise NotImplementedError("your turn")


def test_an_unfilled_stub_never_replaces_a_pass(capsys):
    assert check(solutions.reference('mse_grad'), 'mse_grad').passed
    r = check(stub, 'mse_grad')
    assert r.status == 'not written' and 'stays on your record' in r.message
    assert saved()['mse_grad']['status'] == 'passed'
    checker.PROGRESS.clear()                                     # a kernel restart: only the file remembers
    assert progress()['mse_grad'] == 'passed'


def test_a_failing_try_after_a_pass_keeps_the_pass_and_says_both(capsys):
    check(solutions.reference('relu_grad'), 'relu_grad')
    def relu_grad(inp, out): inp.g = out.g
    r = check(relu_grad, 'relu_grad')
    assert r.status == 'failing' and r.message.startswith('✗') and 'stays on your record' in r.message
    assert saved()['relu_grad'] == {**saved()['relu_grad'], 'status': 'passed', 'last': 'failing'}
    capsys.readouterr(); checker.PROGRESS.clear()
    assert progress()['relu_grad'] == 'passed'
    assert 'passed (your last try was failing)' in capsys.readouterr().out
    check(solutions.reference('relu_grad'), 'relu_grad')         # passing again clears the note
    assert 'last' not in saved()['relu_grad']


def test_the_return_visit(tmp_path):
    "Pass three exercises in a learner's copy, then Run All on 11_practice and 06_module: no error, and the passes stay."
    course = tmp_path/'course'
    subprocess.run([sys.executable, '-c', 'from lesson08.cli import main; main()', 'notebooks', str(course)], check=True, capture_output=True)
    script = ("from lesson08.checker import check\nfrom lesson08 import solutions\n"
              "for n in ['mse_grad', 'lin_grad', 'Sigmoid']: assert check(solutions.reference(n), n).passed")
    subprocess.run([sys.executable, '-c', script], cwd=course, check=True, capture_output=True)
    for nb in ['11_practice.ipynb', '06_module.ipynb']:
        r = subprocess.run([sys.executable, '-m', 'jupyter', 'nbconvert', '--to', 'notebook', '--execute', '--inplace',
                            '--ExecutePreprocessor.timeout=600', nb], cwd=course, capture_output=True, text=True)
        assert r.returncode == 0, r.stderr[-3000:]
    out = subprocess.run([sys.executable, '-c', 'from lesson08.checker import progress; progress()'], cwd=course,
                         capture_output=True, text=True, check=True).stdout
    for line in ['✓ 1. mse_grad', '✓ 3. lin_grad', '✓ 5. Sigmoid', '3 of 21 passing']: assert line in out, out
    shown = json.loads((course/'11_practice.ipynb').read_text())
    text = ''.join(''.join(o.get('text', '')) for c in shown['cells'] if c['cell_type'] == 'code' for o in c.get('outputs', []))
    assert '3 of 21 passing' in text and 'stays on your record' in text
    assert not [o for c in shown['cells'] if c['cell_type'] == 'code' for o in c.get('outputs', []) if o['output_type'] == 'error']


# --- 2. a ✓ holds on any input the checker might draw -------------------------------------------------------
def test_lin_forward_is_compared():
    class Lin(Module):
        def __init__(self, w, b): self.w, self.b = w, b
        def forward(self, inp): return inp @ self.w
        def bwd(self, out, inp):
            inp.g = out.g @ self.w.t(); self.w.g = inp.t() @ out.g; self.b.g = out.g.sum(0)
    assert 'forgets the bias' in fails(Lin, 'Lin')
    class Lin(Module):
        def __init__(self, w, b): self.w, self.b = w, b
        def forward(self, inp): return torch.zeros(inp.shape[0], self.w.shape[1], dtype=inp.dtype)
        def bwd(self, out, inp):
            inp.g = out.g @ self.w.t(); self.w.g = inp.t() @ out.g; self.b.g = out.g.sum(0)
    assert 'the forward pass returned wrong values' in fails(Lin, 'Lin')


def test_relu_mask_at_exactly_zero():
    def relu_grad(inp, out): inp.g = (inp >= 0).to(inp.dtype) * out.g
    assert 'exactly 0' in fails(relu_grad, 'relu_grad')
    def deep(inp, targ, w1, b1, w2, b2, w3, b3):
        ls = [inp @ w1 + b1]; ls.append(ls[0].clamp_min(0.)); ls.append(ls[1] @ w2 + b2); ls.append(ls[2].clamp_min(0.))
        out = ls[3] @ w3 + b3
        t = targ.view(out.shape)
        g = 2. * (out - t) / out.numel()
        w3.g, b3.g, g = ls[3].t() @ g, g.sum(0), g @ w3.t()
        g = g * (ls[2] >= 0)                                       # slope 1 at exactly 0
        w2.g, b2.g, g = ls[1].t() @ g, g.sum(0), g @ w2.t()
        g = g * (ls[0] >= 0)
        w1.g, b1.g, inp.g = inp.t() @ g, g.sum(0), g @ w1.t()
    assert 'w1.g' in fails(deep, 'forward_and_backward_deep')


def test_widths_of_one_and_drawn_hidden_widths():
    def lin_grad(inp, out, w, b):
        inp.g = (out.g @ w.t()).squeeze(-1); w.g = inp.t() @ out.g; b.g = out.g.sum(0)
    assert '`inp.g` has shape' in fails(lin_grad, 'lin_grad')
    def deep(inp, targ, w1, b1, w2, b2, w3, b3):                  # buffers sized for hidden widths 5 and 4
        h = torch.zeros(inp.shape[0], 5, dtype=inp.dtype); h[:] = inp @ w1 + b1
        solutions.forward_and_backward_deep(inp, targ, w1, b1, w2, b2, w3, b3)
        return h.sum()
    assert 'raised RuntimeError' in fails(deep, 'forward_and_backward_deep')


def test_sigmoid_forward_clamped_or_in_float32():
    class Sigmoid(Module):
        def forward(self, inp): return torch.sigmoid(inp).clamp(1e-3, 1 - 1e-3)
        def bwd(self, out, inp): inp.g = out * (1 - out) * out.g
    assert 'the forward pass returned wrong values' in fails(Sigmoid, 'Sigmoid')
    class Sigmoid(Module):
        def forward(self, inp): return torch.sigmoid(inp.float())
        def bwd(self, out, inp): inp.g = out * (1 - out) * out.g
    m = fails(Sigmoid, 'Sigmoid')
    assert 'float32 tensor' in m and 'float64 inputs' in m and 'checker itself' not in m


def test_cross_entropy_rules_are_enforced():
    def naive(inp, targ):
        p = inp.exp(); p = p / p.sum(-1, keepdim=True)
        inp.g = (p - F.one_hot(targ, inp.shape[1]).to(inp.dtype)) / inp.shape[0]
    assert 'large logits' in fails(naive, 'cross_entropy_grad') and 'Subtract' in fails(naive, 'cross_entropy_grad')
    def with_autograd(inp, targ):
        x = inp.detach().clone().requires_grad_()
        with torch.enable_grad(): F.cross_entropy(x, targ).backward()
        inp.g = x.grad
    assert 'asked autograd for the gradient' in fails(with_autograd, 'cross_entropy_grad')
    def sneaky(inp, targ):
        try: with_autograd(inp, targ)
        except Exception: solutions.cross_entropy_grad(inp, targ)
    assert 'asked autograd for the gradient' in fails(sneaky, 'cross_entropy_grad')
    def mse_grad(inp, targ):
        x = inp.detach().clone().requires_grad_()
        with torch.enable_grad(): ((x - targ.view(x.shape)) ** 2).mean().backward()
        inp.g = torch.autograd.grad  # never reached
    assert 'asked autograd' in fails(mse_grad, 'mse_grad')


def test_einsum_is_known_by_the_function_called():
    from torch import einsum as es
    def weight_grad(inp, out_g): return es('ni,nj->ij', inp, out_g)
    assert check(weight_grad, 'weight_grad').passed
    einsum = lambda *a: torch.matmul(a[1].t(), a[2])             # a name that says einsum is not einsum
    def weight_grad(inp, out_g): return einsum('ni,nj->ij', inp, out_g)
    assert 'never called it' in fails(weight_grad, 'weight_grad')


def test_the_likeliest_cause_first():
    def relu_grad(inp, out): inp.g = (inp > 0).float()
    m = fails(relu_grad, 'relu_grad')
    assert '`out.g`, was not multiplied in' in m and 'float32' not in m


# --- 3. code that hangs or crashes gets a verdict ---------------------------------------------------------------
def test_an_endless_loop_under_a_bare_except(monkeypatch):
    import time
    monkeypatch.setattr(checker, 'TIME_LIMIT', 1)
    def relu_grad(inp, out):
        while True:
            try: time.sleep(0.01)
            except: pass                                           # noqa: E722 (catches the checker's stop, too)
    t = time.monotonic()
    assert 'ran for more than 1 s' in fails(relu_grad, 'relu_grad')
    assert time.monotonic() - t < 5
    def nested(inp, out):
        while True:
            try:
                try: time.sleep(0.01)
                except: pass                                       # noqa: E722
            except: pass                                           # noqa: E722
    assert 'ran for more than 1 s' in fails(nested, 'relu_grad')
    def gives_up_quietly(inp, out):
        try:
            while True: pass
        except BaseException: return
    assert 'ran for more than 1 s' in fails(gives_up_quietly, 'relu_grad')
    assert check(solutions.reference('relu_grad'), 'relu_grad').passed and sys.gettrace() is None


def test_odd_exceptions():
    class Stop(BaseException): pass
    def relu_grad(inp, out): raise Stop()
    assert 'raised Stop' in fails(relu_grad, 'relu_grad')
    class Unprintable(Exception):
        def __str__(self): raise ValueError('no')
    def relu_grad(inp, out): raise Unprintable()
    assert 'raised Unprintable: (its message could not be shown)' in fails(relu_grad, 'relu_grad')


def test_the_exercise_object_as_second_argument():
    q = exercise('mse_grad')
    assert check(solutions.reference('mse_grad'), q).passed
    with pytest.raises(TypeError, match="a name such as 'mse_grad'"): check(solutions.reference('mse_grad'), 3)


# --- 4. the progress file ------------------------------------------------------------------------------------
@pytest.mark.parametrize('content', [
    {'format': 'lesson08-progress/1', 'exercises': []},
    {'format': 'lesson08-progress/1', 'exercises': {'mse_grad': 3, 'relu_grad': None, 'lin_grad': {'status': 'great'}}},
    {'format': 'lesson08-progress/1', 'exercises': None},
])
def test_wrong_types_in_the_file_never_crash(content, capsys):
    Path(checker.PROGRESS_FILE).write_text(json.dumps(content))
    assert check(solutions.reference('mse_grad'), 'mse_grad').passed
    exercise('relu_grad').solution()
    assert progress()['mse_grad'] == 'passed'
    assert saved()['mse_grad']['status'] == 'passed' and saved()['relu_grad'] == {**saved()['relu_grad'], 'solution_seen': True}


def test_a_file_that_is_not_ours_is_never_written(capsys):
    for mine in ['{"my": "notes"}', '[1, 2]', 'not JSON at all']:
        Path(checker.PROGRESS_FILE).write_text(mine)
        getattr(checker, '_WARNED', set()).clear()
        assert check(solutions.reference('mse_grad'), 'mse_grad').passed
        assert Path(checker.PROGRESS_FILE).read_text() == mine
        assert 'your progress is not saved' in capsys.readouterr().out
        assert progress()['mse_grad'] == 'passed'                 # the session still remembers


@pytest.mark.skipif(not hasattr(os, 'symlink') or sys.platform == 'win32', reason='needs symbolic links')
def test_no_write_through_a_link(tmp_path):
    target = tmp_path/'precious.txt'; target.write_text('mine')
    for pid in range(os.getpid() - 2, os.getpid() + 3):          # the old, guessable temporary names
        os.symlink(target, f'.{checker.PROGRESS_FILE}.{pid}.tmp')
    check(solutions.reference('mse_grad'), 'mse_grad')
    assert target.read_text() == 'mine' and saved()['mse_grad']['status'] == 'passed'
    assert not [p for p in Path('.').glob('.lesson08-progress.json.*.tmp') if not p.is_symlink()]
    os.remove(checker.PROGRESS_FILE); os.symlink(target, checker.PROGRESS_FILE)   # the progress file itself a link
    check(solutions.reference('mse_grad'), 'mse_grad')
    assert target.read_text() == 'mine' and Path(checker.PROGRESS_FILE).is_symlink()


def test_an_unwritable_folder_only_loses_the_record(tmp_path, monkeypatch, capsys):
    if os.geteuid() == 0: monkeypatch.setattr(checker.tempfile, 'mkstemp', lambda **k: (_ for _ in ()).throw(PermissionError(13, 'denied')))
    else: os.chmod(tmp_path, 0o555)
    try:
        assert check(solutions.reference('mse_grad'), 'mse_grad').passed
        assert "can't be saved" in capsys.readouterr().out
    finally: os.chmod(tmp_path, 0o755)


def test_a_console_that_is_not_utf8(tmp_path):
    script = ("from lesson08.checker import check, progress\nfrom lesson08 import solutions\n"
              "check(solutions.reference('mse_grad'), 'mse_grad'); progress()")
    r = subprocess.run([sys.executable, '-c', script], cwd=tmp_path, capture_output=True, text=True,
                       encoding='cp1252', env={**os.environ, 'PYTHONIOENCODING': 'cp1252'})
    assert r.returncode == 0 and 'OK 1. mse_grad' in r.stdout, r.stderr


# --- found in review ---------------------------------------------------------------------------------------------
def test_the_line_named_is_in_the_learners_own_bwd():
    class Lin(Module):
        def __init__(self, w, b): self.w, self.b = w, b
        def forward(self, inp): return inp @ self.w + self.b
        def bwd(self, out, inp):
            inp.g = out.g @ self.w.t()
            raise ValueError("boom")
    assert "raised ValueError: boom (line 3 of your `bwd`: `raise ValueError(\"boom\")`)" in fails(Lin, 'Lin')


def test_deleting_out_g_is_the_learners_mistake():
    def lin_grad(inp, out, w, b):
        inp.g = out.g @ w.t(); w.g = inp.t() @ out.g; b.g = out.g.sum(0)
        del out.g
    m = fails(lin_grad, 'lin_grad')
    assert 'removed `out.g`' in m and 'checker itself' not in m


def test_the_progress_file_stays_readable():
    check(solutions.reference('mse_grad'), 'mse_grad')
    assert Path(checker.PROGRESS_FILE).stat().st_mode & 0o777 == 0o644


# --- the matrix-product exercises: a pass is kept, and shortcuts fail ------------------------------------------------
def test_a_matmul_pass_is_never_lost(capsys):
    for name in ('matmul_broadcast', 'matmul_einsum'):
        assert check(solutions.reference(name), name).passed
        def stub(a, b): raise NotImplementedError("your turn")
        r = check(stub, name)
        assert r.status == 'not written' and 'stays on your record' in r.message
        r = check(lambda a, b: a @ b, name)
        assert r.status == 'failing' and 'stays on your record' in r.message
    checker.PROGRESS.clear()
    assert progress()['matmul_broadcast'] == progress()['matmul_einsum'] == 'passed'


def squeezed(a, b): return (a[:, :, None] * b[None]).sum(1).squeeze()                       # loses a 1×k or k×1 shape
def float64_only(a, b): return (a[:, :, None] * b[None]).sum(1).double()                  # right in float64 alone
def square_transposed(a, b):                                                              # guesses the layout from the shapes
    return (a[:, :, None] * b[None]).sum(1) if a.shape[0] < a.shape[1] else (a[:, :, None] * b[None]).sum(1).t().t() * 1.001
def wide_only(a, b):                                                                      # rows beyond k never computed
    c = torch.zeros(a.shape[0], b.shape[1], dtype=a.dtype)
    for i in range(min(a.shape)): c[i] = (a[i].unsqueeze(-1) * b).sum(0)
    return c
def ones_k(a, b): return a.sum(1, keepdim=True) * b.sum(0, keepdim=True) / b.shape[0]   # right only when k = 1


@pytest.mark.parametrize('fn', [squeezed, float64_only, square_transposed, wide_only, ones_k])
def test_matmul_shortcuts_fail(fn):
    fails(fn, 'matmul_broadcast')


def test_the_printed_matmul_solutions_are_minimal():
    for name in ('matmul_broadcast', 'matmul_einsum'):
        src = solutions.solution_source(name)
        assert 'check_matmul' not in src and 'raise' not in src and f'def {name}(a, b):' in src
