"""The gradient checker at its edges: 16-bit gradients, non-contiguous tensors, integer and bool tensors,
scalars, meta tensors, a step that is not finite, and parameters that are views of one buffer."""
import math

import pytest
import torch

from lesson08.forward import mse, model
from lesson08.gradcheck import (check_grads, check_version, fd_grads, forward_and_backward_autograd, grad_tol,
                                random_problem)
from lesson08.layers import Model, check_distinct, forward_and_backward_layers

LOW = (torch.bfloat16, torch.float16)
cube = lambda a: (a ** 3).sum()


def scaled(factor):
    "A version whose gradients are autograd's times `factor`."
    def fwd_bwd(x, y, *ps):
        forward_and_backward_autograd(x, y, *ps)
        for t in (x, *ps): t.g = t.g * factor
    return fwd_bwd


# 1. 16-bit gradients: a wrong one must never get ✓
@pytest.mark.parametrize('dtype', LOW)
@pytest.mark.parametrize('factor', [2., 1.3, -1.])
def test_wrong_16bit_gradients_never_pass_at_mnist_width(dtype, factor):
    x, y, ps = random_problem(64, 784, 50, 1, dtype=dtype)
    try: rep = check_version(scaled(factor), x, y, ps, show=False)
    except ValueError as e: assert str(dtype)[6:] in str(e) and 'float32 or float64' in str(e); return
    assert not any(c.ok for c in rep), rep


@pytest.mark.parametrize('dtype', LOW)
def test_16bit_is_refused_in_one_line_that_names_the_dtype(dtype):
    x, y, ps = random_problem(64, 784, 50, 1, dtype=dtype)
    with pytest.raises(ValueError, match=f"{str(dtype)[6:]}.*check in float32 or float64") as e:
        check_version(forward_and_backward_autograd, x, y, ps, show=False)
    assert '\n' not in str(e.value) and 'x.g' in str(e.value)
    with pytest.raises(ValueError, match=str(dtype)[6:]): grad_tol(dtype, 784)


def test_16bit_inputs_with_float32_gradients_are_still_checked():
    x, y, ps = random_problem(16, 10, 8, 2, dtype=torch.bfloat16)
    grads = {k: torch.zeros(t.shape) for k, t in {'x': x, **ps}.items()}   # float32, and wrong
    loss = lambda x_, *p: mse(model(x_, *p), y.double())
    assert not check_grads(loss, {'x': x, **ps}, grads, show=False).ok


# 2. non-contiguous tensors: the finite-difference step must reach the tensor
def test_exact_gradient_of_a_transposed_tensor_passes():
    a = torch.randn(5, 7, dtype=torch.float64).t()
    assert not a.is_contiguous()
    rep = check_grads(cube, {'a': a}, {'a': 3 * a ** 2}, show=False)
    assert rep.ok and rep['a'].fd_close is True, rep
    torch.testing.assert_close(fd_grads(cube, {'a': a}, 'a', range(6)), (3 * a ** 2).reshape(-1)[:6], rtol=1e-6, atol=1e-6)


def test_weights_stored_transposed_like_from_linear_pass():
    x, y, ps = random_problem(8, 5, 4, 2)
    ps = {k: (t.t().contiguous().t() if t.ndim == 2 else t) for k, t in ps.items()}   # same values, (n_out, n_in) storage
    rep = check_version(forward_and_backward_autograd, x, y, ps, show=False)
    assert rep.ok and rep['w1'].fd_close is True and rep['w2'].fd_close is True, rep


# 3. integer and bool tensors
@pytest.mark.parametrize('dtype', [torch.int64, torch.int32, torch.bool])
def test_an_integer_or_bool_gradient_is_a_clear_cross(dtype):
    a = torch.randn(3, 4, dtype=torch.float64)
    rep = check_grads(cube, {'a': a}, {'a': torch.ones(3, 4, dtype=dtype)}, show=False)
    assert not rep.ok and 'floating-point' in rep['a'].problem and str(rep).startswith('✗')


@pytest.mark.parametrize('dtype', [torch.int64, torch.bool])
def test_an_integer_or_bool_input_is_refused_by_name(dtype):
    a, n = torch.randn(3, dtype=torch.float64), torch.ones(3, dtype=dtype)
    with pytest.raises(ValueError, match='counts.*floating-point') as e:
        check_grads(lambda a, counts: (a * counts).sum(), {'a': a, 'counts': n}, {'a': n.double(), 'counts': a}, show=False)
    assert '\n' not in str(e.value)


# 4. scalars
def test_zero_dim_parameters_are_checked():
    a, b = torch.tensor(1.5, dtype=torch.float64), torch.tensor(-2., dtype=torch.float64)
    rep = check_grads(lambda a, b: a * a * b, {'a': a, 'b': b}, {'a': 2 * a * b, 'b': a * a}, show=False)
    assert rep.ok and rep['a'].fd_close and rep['b'].fd_close, rep
    w = torch.randn(3, dtype=torch.float64)
    assert not check_grads(lambda w, s: (w * s).sum(), {'w': w, 's': a}, {'w': a.expand(3) * 2, 's': w.sum()}, show=False).ok


# 5. meta tensors hold no numbers
def test_meta_tensors_are_refused_as_meta_not_as_the_same_tensor():
    ps = [torch.empty(4, 3, device='meta'), torch.empty(3, device='meta'), torch.empty(3, 1, device='meta'), torch.empty(1, device='meta')]
    for call in (lambda: check_distinct(ps), lambda: Model(*ps)):
        with pytest.raises(ValueError, match='w1 is a meta tensor, which holds no numbers') as e: call()
        assert 'same tensor' not in str(e.value)
    with pytest.raises(ValueError, match='a is a meta tensor, which holds no numbers'):
        check_grads(cube, {'a': torch.empty(3, device='meta')}, {'a': torch.empty(3)}, show=False)


def test_a_meta_gradient_is_a_clear_cross():
    a = torch.randn(3, dtype=torch.float64)
    rep = check_grads(cube, {'a': a}, {'a': torch.empty(3, dtype=torch.float64, device='meta')}, show=False)
    assert not rep.ok and 'meta tensor' in rep['a'].problem


# 6. the step must be finite and positive
@pytest.mark.parametrize('eps', [math.inf, math.nan, -math.inf, 0., -1e-6])
def test_eps_must_be_finite_and_positive(eps):
    a = torch.randn(3, dtype=torch.float64)
    with pytest.raises(ValueError, match='eps must be a finite positive step'):
        check_grads(cube, {'a': a}, {'a': 3 * a ** 2}, eps=eps, show=False)
    with pytest.raises(ValueError, match='eps must be a finite positive step'):
        fd_grads(cube, {'a': a}, 'a', [0], eps=eps)


# 7. views of one buffer: refused only when they share elements
def test_separate_views_of_one_buffer_are_distinct_parameters():
    _, _, ps = random_problem(1, 5, 4, 2)
    buf = torch.cat([t.reshape(-1) for t in ps.values()])
    sizes = [t.numel() for t in ps.values()]
    views = dict(zip(ps, (v.view(t.shape) for v, t in zip(buf.split(sizes), ps.values()))))
    check_distinct(list(views.values()))
    x, y, _ = random_problem(6, 5, 4, 2)
    assert check_version(forward_and_backward_layers, x, y, views, show=False).ok
    b = torch.randn(10)
    check_distinct([b[:5], b[5:]])
    check_distinct([b[:6].view(3, 2), b[6:8], b[8:10].view(2, 1), b[10:]])   # an empty view shares nothing


def test_shared_elements_are_still_refused():
    sq, b = torch.randn(5, 5), torch.randn(10)
    other = lambda: torch.zeros(2)
    for ps, words in [([sq, b, sq, b], 'w1 and w2 are the same tensor'), ([sq, other(), sq.t(), other()], 'share its memory'),
                      ([b[:6], other(), b[4:8], other()], 'w1 and w2'), ([sq[1:], other(), sq[:, 2:], other()], 'w1 and w2'),
                      ([sq, other(), sq[4], other()], 'w1 and w2'), ([sq, b, other(), b[3:5]], 'b1 and b2')]:
        with pytest.raises(ValueError, match=words): check_distinct(ps)
