"""The matmul ladder (lesson08.matmul): every rung agrees with `@` for any (m, k) @ (k, n), keeps the dtype, and refuses bad shapes by name."""
import pytest
import torch

from lesson08.matmul import matmul_broadcast, matmul_einsum, matmul_elementwise, matmul_loops

RUNGS = [matmul_loops, matmul_elementwise, matmul_broadcast, matmul_einsum]


@pytest.mark.parametrize('f', RUNGS)
@pytest.mark.parametrize('shape', [(1, 1, 1), (2, 3, 4), (4, 1, 3), (3, 6, 1), (1, 8, 2)])
def test_each_rung_is_a_matrix_product(f, shape):
    m, k, n = shape
    g = torch.Generator().manual_seed(sum(shape))
    a, b = torch.randn(m, k, generator=g, dtype=torch.float64), torch.randn(k, n, generator=g, dtype=torch.float64)
    out = f(a, b)
    assert out.shape == (m, n) and out.dtype == torch.float64
    torch.testing.assert_close(out, a @ b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize('f', RUNGS)
def test_integers_stay_exact(f):
    a, b = torch.arange(6).view(2, 3), torch.arange(12).view(3, 4)
    assert torch.equal(f(a, b), a @ b)


@pytest.mark.parametrize('f', RUNGS)
def test_bad_shapes_are_named(f):
    with pytest.raises(ValueError, match=r"a is \(2, 3\) and b is \(2, 3\)"): f(torch.ones(2, 3), torch.ones(2, 3))
    with pytest.raises(ValueError, match='two matrices'): f(torch.ones(3), torch.ones(3, 1))
    with pytest.raises(ValueError, match='two matrices'): f(torch.ones(1, 2, 3), torch.ones(3, 1))
