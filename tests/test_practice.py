"""Every diagnosis the practice checker promises, each provoked by a known-wrong solution.

The wrong solutions live here, never in the learner's notebook."""
import pytest
import torch

from lesson08 import checker as practice, solutions
from lesson08.module import Module
from lesson08.checker import check


@pytest.fixture(autouse=True)
def in_tmp_folder(tmp_path, monkeypatch):
    "The checker saves progress in the current folder: give each test its own."
    monkeypatch.chdir(tmp_path)


def msg(solution, exercise):
    r = check(solution, exercise)
    assert not r.passed
    return r.message


# --- the reference solutions pass --------------------------------------------------------------
@pytest.mark.parametrize('exercise', list(practice.EXERCISES))
def test_reference_solutions_pass(exercise):
    r = check(solutions.reference(exercise), exercise)
    assert r.passed and r.message.startswith('✓') and any(p in r.message for p in practice.PRAISE)


# --- the diagnoses ---------------------------------------------------------------------------------
def test_transposed_weight_gradient():
    def lin_grad(inp, out, w, b):
        inp.g = out.g @ w.t(); w.g = out.g.t() @ inp; b.g = out.g.sum(0)
    m = msg(lin_grad, 'lin_grad')
    assert 'w.g' in m and 'looks transposed' in m and 'has shape (3, 5) but should be (5, 3)' in m


def test_mean_forgotten():
    def mse_grad(inp, targ): inp.g = 2. * (inp - targ.view(inp.shape))
    m = msg(mse_grad, 'mse_grad')
    assert 'The 1/N is missing' in m and 'is 6 times too big' in m


def test_factor_two_forgotten():
    def mse_grad(inp, targ): inp.g = (inp - targ.view(inp.shape)) / inp.numel()
    assert 'The factor 2 is missing' in msg(mse_grad, 'mse_grad')


def test_sign_flipped():
    def mse_grad(inp, targ): inp.g = 2. * (targ.view(inp.shape) - inp) / inp.numel()
    assert 'wrong sign' in msg(mse_grad, 'mse_grad')


def test_divides_by_rows_with_several_outputs():
    def mse_grad(inp, targ): inp.g = 2. * (inp - targ.view(inp.shape)) / inp.shape[0]
    assert 'divide by `inp.numel()`, not by N' in msg(mse_grad, 'mse_grad')


def test_bias_gradient_not_summed():
    def lin_grad(inp, out, w, b):
        inp.g = out.g @ w.t(); w.g = inp.t() @ out.g; b.g = out.g
    m = msg(lin_grad, 'lin_grad')
    assert 'b.g' in m and 'still has the batch dimension' in m and 'has shape (6, 3), expected (3)' in m


def test_upstream_gradient_not_multiplied():
    def relu_grad(inp, out): inp.g = (inp > 0).to(inp.dtype)
    assert '`out.g`, was not multiplied in' in msg(relu_grad, 'relu_grad')
    def lin_grad(inp, out, w, b):
        inp.g = out.g @ w.t(); w.g = inp.t() @ torch.ones_like(out); b.g = out.g.sum(0)
    assert 'w.g` ignores the gradient from above' in msg(lin_grad, 'lin_grad')


def test_broadcast_to_n_by_n():
    def mse_grad(inp, targ): inp.g = 2. * (inp - targ) / inp.shape[0]
    m = msg(mse_grad, 'mse_grad')
    assert 'has shape (6, 6), expected (6, 1)' in m and 'N×N' in m and 'broadcasting' in m


def test_input_modified_in_place():
    def relu_grad(inp, out): inp.g = (inp.clamp_(min=0) > 0).to(inp.dtype) * out.g
    assert 'changed `inp` in place' in msg(relu_grad, 'relu_grad')
    def mse_grad(inp, targ):
        inp -= targ.view(inp.shape); inp.g = 2. * inp / inp.numel()
    assert 'changed `inp` in place' in msg(mse_grad, 'mse_grad')


def test_gradient_never_assigned():
    def lin_grad(inp, out, w, b):
        inp.g = out.g @ w.t(); b.g = out.g.sum(0)
        return inp.t() @ out.g
    assert '`w.g` was never assigned' in msg(lin_grad, 'lin_grad')


def test_wrong_tensor_used():
    def lin_grad(inp, out, w, b):
        inp.g = out.g @ w.t(); w.g = inp.t() @ out; b.g = out.g.sum(0)
    assert '`w.g` uses `out` where `out.g` belongs' in msg(lin_grad, 'lin_grad')

    class Sigmoid(Module):
        def forward(self, inp): return torch.sigmoid(inp)
        def bwd(self, out, inp): inp.g = inp * (1 - inp) * out.g
    assert 'uses the input where the output belongs' in msg(Sigmoid, 'Sigmoid')


def test_generic_error_shows_where():
    def mse_grad(inp, targ): inp.g = 2. * (inp - targ.view(inp.shape)) / inp.numel() + 0.1
    m = msg(mse_grad, 'mse_grad')
    assert 'wrong values: the largest error is' in m and 'at index' in m


def test_module_style_lin_and_deep_model():
    class Lin(Module):
        def __init__(self, w, b): self.w, self.b = w, b
        def forward(self, inp): return inp @ self.w + self.b
        def bwd(self, out, inp):
            inp.g = out.g @ self.w.t(); self.w.g = inp.t() @ out.g   # bias forgotten
    assert '`b.g` was never assigned' in msg(Lin, 'Lin')

    def forward_and_backward_deep(inp, targ, w1, b1, w2, b2, w3, b3):
        solutions.forward_and_backward_deep(inp, targ, w1, b1, w2, b2, w3, b3)
        w2.g = -w2.g
    assert '`w2.g` has the wrong sign' in msg(forward_and_backward_deep, 'forward_and_backward_deep')


def test_einsum_exercise_requires_einsum():
    def weight_grad(inp, out_g): return inp.t() @ out_g
    assert 'compute it with `torch.einsum` (your function never called it)' in msg(weight_grad, 'weight_grad')


# --- junk never crashes the checker --------------------------------------------------------------
def test_returns_none():
    def weight_grad(inp, out_g): torch.einsum('ni,nj->ij', inp, out_g)
    assert 'returned None' in msg(weight_grad, 'weight_grad')


def test_wrong_type():
    def weight_grad(inp, out_g): return torch.einsum('ni,nj->ij', inp, out_g).tolist()
    assert 'is a list, expected a tensor of shape (5, 3)' in msg(weight_grad, 'weight_grad')


def test_raises():
    def mse_grad(inp, targ):
        x = 1 / 0
    m = msg(mse_grad, 'mse_grad')
    assert 'raised ZeroDivisionError: division by zero' in m and 'line 2 of your `mse_grad`' in m


def test_not_written_yet():
    def relu_grad(inp, out): raise NotImplementedError('your turn')
    r = check(relu_grad, 'relu_grad')
    assert r.status == 'not written' and not r.passed and 'not written yet' in r.message and '✓' not in r.message


def test_progress_survives_a_new_process(tmp_path):
    "A kernel restart (here: a new interpreter in the same folder) still sees the saved progress."
    import subprocess, sys
    check(solutions.reference('lin_grad'), 'lin_grad')
    out = subprocess.run([sys.executable, '-c', 'from lesson08.checker import progress; progress()'], cwd=tmp_path,
                         capture_output=True, text=True, check=True).stdout
    assert '✓ 3. lin_grad' in out and '1 of 21 passing' in out and '· 1. mse_grad' in out


def test_hint_and_solution_only_when_asked(capsys):
    q = practice.exercise('Sigmoid')
    q.check(solutions.reference('Sigmoid'))
    assert 'def bwd' not in capsys.readouterr().out
    q.hint(); assert 'Hint for 5. Sigmoid' in capsys.readouterr().out
    q.solution(); out = capsys.readouterr().out
    assert 'def bwd(self, out, inp)' in out and 'out * (1 - out) * out.g' in out
    practice.PROGRESS.clear(); practice.progress()
    assert '(solution viewed)' in capsys.readouterr().out


def test_hangs(monkeypatch):
    monkeypatch.setattr(practice, 'TIME_LIMIT', 1)
    def relu_grad(inp, out):
        while True: pass
    assert 'ran for more than 1 s' in msg(relu_grad, 'relu_grad')


def test_huge_allocation_is_reported(monkeypatch):
    def weight_grad(inp, out_g): return torch.empty(10**7, 10**7)
    m = msg(weight_grad, 'weight_grad')
    assert 'raised RuntimeError' in m


def test_unknown_exercise():
    with pytest.raises(ValueError, match='no exercise called'):
        check(lambda x: x)


def test_progress_table(capsys):
    practice.PROGRESS.clear()
    check(solutions.reference('mse_grad'), 'mse_grad')
    def relu_grad(inp, out): inp.g = (inp > 0).to(inp.dtype)
    check(relu_grad, 'relu_grad')
    capsys.readouterr()
    practice.progress()
    out = capsys.readouterr().out
    assert '✓ 1. mse_grad' in out and '✗ 2. relu_grad' in out and '· 3. lin_grad' in out and '1 of 21 passing' in out


# --- issue 11: the checker can't be fooled, names the learner's mistake, and keeps its time limit -------------------
def lin_grad_1(inp, out, w, b):
    out.g /= inp.shape[0]
    inp.g = out.g @ w.t(); w.g = inp.t() @ out.g; b.g = out.g.sum(0)
def lin_grad_2(inp, out, w, b):
    inp.g = out.g @ w.t(); w.g = inp.t() @ out.g; b.g = out.g.sum(0)
    out.g.zero_()
def lin_grad_3(inp, out, w, b):
    g = out.g; g *= 2
    inp.g = g @ w.t() / 2; w.g = inp.t() @ g / 2; b.g = g.sum(0) / 2
def relu_grad_1(inp, out):
    g = out.g; g[inp <= 0] = 0; inp.g = g
def relu_grad_2(inp, out):
    out.g.mul_((inp > 0).to(inp.dtype)); inp.g = out.g
def relu_grad_3(inp, out):
    out.g[inp < 0] = 0; inp.g = out.g.clone(); inp.g[inp == 0] = 0
def relu_grad_4(inp, out):
    torch.where(inp > 0, out.g, torch.zeros_like(out.g), out=out.g); inp.g = out.g
def relu_grad_5(inp, out):
    out.g *= (inp > 0); inp.g = out.g
IN_PLACE_OUT_G = [('lin_grad', f) for f in (lin_grad_1, lin_grad_2, lin_grad_3)] + \
                 [('relu_grad', f) for f in (relu_grad_1, relu_grad_2, relu_grad_3, relu_grad_4, relu_grad_5)]


@pytest.mark.parametrize('exercise,fn', IN_PLACE_OUT_G, ids=[f.__name__ for _, f in IN_PLACE_OUT_G])
def test_editing_out_g_in_place_is_named(exercise, fn):
    m = msg(fn, exercise)
    assert 'changed `out.g` in place' in m and '✓' not in m, m


def test_sigmoid_that_overwrites_its_input():
    class Sigmoid(Module):
        def forward(self, inp): return inp.sigmoid_()
        def bwd(self, out, inp): inp.g = out * (1 - out) * out.g
    assert 'changed its input in place' in msg(Sigmoid, 'Sigmoid')


def test_learners_mistakes_are_not_blamed_on_the_checker():
    class Sigmoid:
        def __call__(self, inp): return torch.sigmoid(inp)
    m = msg(Sigmoid, 'Sigmoid')
    assert 'has no `backward` method' in m and 'checker itself' not in m
    def relu_grad(inp, out): inp.g = torch.zeros(inp.shape, dtype=inp.dtype, device='meta')
    m = msg(relu_grad, 'relu_grad')
    assert 'is on meta but the inputs are on cpu' in m and 'checker itself' not in m


def test_a_comment_saying_einsum_is_not_einsum():
    def weight_grad(inp, out_g):
        # einsum later
        return inp.t() @ out_g   # "torch.einsum('ni,nj->ij', inp, out_g)"
    assert 'never called it' in msg(weight_grad, 'weight_grad')
    from torch import einsum   # a call the counter can't see is still found in the code
    def weight_grad(inp, out_g): return einsum('ni,nj->ij', inp, out_g)
    assert check(weight_grad, 'weight_grad').passed


def test_named_diagnoses():
    def lin_grad(inp, out, w, b):
        inp.g = out.g @ w.t(); w.g = inp.t() @ out.g / inp.shape[0]; b.g = out.g.sum(0)
    assert 'is the *mean* over the batch' in msg(lin_grad, 'lin_grad') or 'times too small' in msg(lin_grad, 'lin_grad')
    def weight_grad(inp, out_g): return torch.einsum('bi,bj->bij', inp, out_g)
    m = msg(weight_grad, 'weight_grad')
    assert 'batch dimension' in m and 'bias' not in m
    def relu_grad(inp, out):
        inp.g = torch.zeros(inp.shape); inp.g[inp > 0] = out.g[inp > 0].float()
    assert 'is float32 but the inputs are float64' in msg(relu_grad, 'relu_grad')


def test_deeper_model_reports_the_layer_nearest_the_loss_first():
    ref = solutions.forward_and_backward_deep
    def wrong_w1_and_w3(inp, targ, w1, b1, w2, b2, w3, b3):
        ref(inp, targ, w1, b1, w2, b2, w3, b3); w1.g = w1.g * 2; w3.g = w3.g * 2
    assert msg(wrong_w1_and_w3, 'forward_and_backward_deep').startswith('✗ 6. a deeper model: `w3.g`')
    def swapped(inp, targ, w1, b1, w2, b2, w3, b3):
        ref(inp, targ, w1, b1, w2, b2, w3, b3); w1.g = w2.g
    m = msg(swapped, 'forward_and_backward_deep')
    assert 'that is the shape of `w2.g`' in m and "Did you store w2's gradient in `w1.g`?" in m


def test_right_only_for_small_shapes_fails():
    def mse_grad(inp, targ):
        t = targ.view(inp.shape)
        inp.g = 2 * (inp - t) / inp.numel() if inp.shape[0] <= 9 else 2 * (inp - t) / inp.shape[0]
    assert not check(mse_grad, 'mse_grad').passed


def test_the_time_limit_holds(monkeypatch):
    import signal, sys, time
    monkeypatch.setattr(practice, 'TIME_LIMIT', 1)
    def relu_grad(inp, out):
        while True:
            try: time.sleep(0.01)
            except Exception: pass            # swallows ordinary exceptions, not the checker's timeout
    assert 'ran for more than 1 s' in msg(relu_grad, 'relu_grad')
    fired = []
    old = signal.signal(signal.SIGALRM, lambda *a: fired.append(1))
    signal.setitimer(signal.ITIMER_REAL, 100)
    try:
        check(solutions.reference('relu_grad'), 'relu_grad')
        left, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 95 < left <= 100 and signal.getsignal(signal.SIGALRM) is not None and not fired
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0); signal.signal(signal.SIGALRM, old)
    def quits(inp, out): sys.exit()
    assert 'called `sys.exit()`' in msg(quits, 'relu_grad')


def test_no_time_limit_in_a_thread_is_said(capsys):
    import threading
    t = threading.Thread(target=lambda: check(solutions.reference('relu_grad'), 'relu_grad'))
    t.start(); t.join()
    assert 'no time limit here' in capsys.readouterr().out


# --- issue 21: the checker's tolerance is the gradient checker's, and the lessons' exercises ---------------------------
def test_tolerance_is_gradchecks():
    from lesson08.gradcheck import grad_tol
    for dtype in (torch.float64, torch.float32):
        assert practice._tol(torch.zeros(3, 5, dtype=dtype), 7) == grad_tol(dtype, 7)
        assert practice._tol(torch.zeros(3, 5, dtype=dtype)) == grad_tol(dtype, 5)


def test_a_correct_form_that_cancels_still_passes():
    "σ' written as s·g − s²·g loses digits where s ≈ 1; it is still right, and the tolerance scales with its terms."
    class Sigmoid(Module):
        def forward(self, inp): return torch.sigmoid(inp)
        def bwd(self, out, inp): inp.g = out.g * out - out.g * out * out
    assert check(Sigmoid, 'Sigmoid').passed


@pytest.mark.parametrize('name', ['matmul_broadcast', 'matmul_einsum', 'lin', 'relu', 'broadcast_shape', 'grad_shapes', 'w_grad_outer', 'fd_grad', 'Relu', 'Mse', 'linear_grads',
                                  'engine_tanh', 'engine_accumulate'])
def test_lessons_exercises_exist_and_stubs_are_not_written(name):
    def raises(*a): raise NotImplementedError('your turn')
    r = practice.exercise(name).check(... if name in ('broadcast_shape', 'grad_shapes') else raises)
    assert r.status == 'not written' and 'not written yet' in r.message and '✓' not in r.message
    assert practice.exercise(name).check(solutions.reference(name)).passed


# --- the matrix-product exercises of 01_matmul: one test per diagnosis ------------------------------------------------
def bc(rows=lambda a, b: a.shape[0], size=lambda a, b: (a.shape[0], b.shape[1]), reduce='sum', unsq=True, dtype=True):
    "A one-loop broadcast product with one slip: its loop over `rows(a, b)`, a result of `size`, a mean or no sum, no unsqueeze, float32."
    def matmul_broadcast(a, b):
        c = torch.zeros(*size(a, b), **(dict(dtype=a.dtype) if dtype else {}))
        for i in range(rows(a, b)):
            t = (a[i].unsqueeze(-1) if unsq else a[i]) * b
            c[i] = t if reduce is None else getattr(t, reduce)(0)
        return c
    return matmul_broadcast


def es(eq): return lambda a, b: torch.einsum(eq, a, b)


@pytest.mark.parametrize('fn', [bc(), lambda a, b: (a[:, :, None] * b[None]).sum(1), lambda a, b: (a.unsqueeze(-1) * b.unsqueeze(0)).sum(1),
                                lambda a, b: torch.stack([(r[:, None] * b).sum(0) for r in a])])
def test_matmul_broadcast_accepts_every_broadcasting_form(fn):
    assert check(fn, 'matmul_broadcast').passed


@pytest.mark.parametrize('eq', ['ik,kj->ij', 'ij,jk->ik', 'ik,kj', 'ab,bc->ac', 'ij,jk'])
def test_matmul_einsum_accepts_renamed_and_implicit_subscripts(eq):
    assert check(es(eq), 'matmul_einsum').passed
    assert check(lambda a, b: torch.einsum('ik,kj->ij', [a, b]), 'matmul_einsum').passed


def test_the_lessons_own_products_pass():
    from lesson08 import matmul
    for name in ('matmul_broadcast', 'matmul_einsum'): assert check(getattr(matmul, name), name).passed


def test_matmul_transposed():
    m = msg(lambda a, b: (b.t()[:, :, None] * a.t()[None]).sum(1), 'matmul_broadcast')
    assert 'returned shape (2, 3), the transpose of the (3, 2) expected' in m
    assert 'transpose' in msg(es('ik,kj->ji'), 'matmul_einsum')


def test_matmul_mean_or_no_sum_over_k():
    assert '5 times too small: that is the mean over k = 5' in msg(bc(reduce='mean'), 'matmul_broadcast')
    assert 'returned shape (3, 5, 2)' in msg(lambda a, b: a[:, :, None] * b[None], 'matmul_broadcast')
    assert 'stores a (5, 2) tensor in one row of the result' in msg(bc(reduce=None), 'matmul_broadcast')
    assert "keep the shared index `k` in the output `ikj`" in msg(es('ik,kj->ikj'), 'matmul_einsum')


@pytest.mark.parametrize('rows', [lambda a, b: a.shape[1], lambda a, b: b.shape[0]], ids=['a.shape[1]', 'b.shape[0]'])
def test_matmul_loop_sized_for_square_matrices(rows):
    fn = bc(rows=rows)
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(4, 4, generator=g), torch.randn(4, 4, generator=g)
    assert torch.allclose(fn(a, b), a @ b)                     # right when a is square...
    m = msg(fn, 'matmul_broadcast')                            # ...and named when m ≠ k
    assert 'the loop runs past a\'s last row' in m and '`range(a.shape[0])`' in m
    def stops_early(a, b):   # catches the IndexError: right when m < k, rows left empty when m > k
        c = torch.zeros(a.shape[0], b.shape[1], dtype=a.dtype)
        for i in range(rows(a, b)):
            try: c[i] = (a[i].unsqueeze(-1) * b).sum(0)
            except IndexError: break
        return c
    assert 'fills only the first 4 of the 6 rows' in msg(stops_early, 'matmul_broadcast')
    assert 'right for square matrices only' in msg(bc(size=lambda a, b: (a.shape[1], b.shape[1])), 'matmul_broadcast')


def test_matmul_wrong_einsum_subscripts_are_named():
    assert "'ik,jk->ij' pair a's columns with b's columns" in msg(es('ik,jk->ij'), 'matmul_einsum')
    assert "pair a's rows with b's rows" in msg(es('ki,kj->ij'), 'matmul_einsum')
    assert 'alphabetical order' in msg(es('ik,kh'), 'matmul_einsum')


@pytest.mark.parametrize('fn,words', [(lambda a, b: a @ b, 'uses `@`'), (lambda a, b: torch.matmul(a, b), 'uses `@`'),
                                      (lambda a, b: torch.mm(a, b), 'uses `torch.mm`'), (lambda a, b: a.mm(b), 'uses `torch.mm`'),
                                      (lambda a, b: torch.from_numpy(a.numpy() @ b.numpy()), 'uses NumPy'),
                                      (es('ik,kj->ij'), 'uses `torch.einsum`')])
def test_a_ready_made_product_is_not_the_broadcasting_exercise(fn, words):
    m = msg(fn, 'matmul_broadcast')
    assert m.startswith('✗') and words in m and 'it gives the right numbers, but this exercise asks you to build it from broadcasting' in m


def test_einsum_must_be_the_function_used():
    m = msg(lambda a, b: a @ b, 'matmul_einsum')
    assert m.startswith('✗') and 'uses `@`' in m and 'write it with `torch.einsum`' in m
    assert 'never called it' in msg(lambda a, b: (a[:, :, None] * b[None]).sum(1), 'matmul_einsum')


def test_matmul_other_slips():
    assert 'Make the row a column first' in msg(bc(unsq=False), 'matmul_broadcast')
    assert 'float32 unless you pass `dtype=a.dtype`' in msg(bc(dtype=False), 'matmul_broadcast')
    assert 'changed `a` in place' in msg(lambda a, b: (a.add_(1)[:, :, None] * b[None]).sum(1), 'matmul_broadcast')
