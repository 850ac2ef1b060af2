"""Data enters at the edges: every version's entry point names a list or a numpy array instead of an AttributeError;
the maths inside (lin, relu, model, the backward functions) stays bare. Version 1 is the lecture's bare function: its
edge is the benchmark's door (`bench.guarded`), which checks the input and slices big batches."""
import pytest
import torch

from lesson08 import bench, layers, module, torch_nn
from lesson08.backward import forward_and_backward
from lesson08.gradcheck import forward_and_backward_autograd
from lesson08.forward import check_model, init_params

ps = init_params(4, 3, 1)
x, y = torch.randn(5, 4), torch.randn(5)
ENTRIES = {'check_model': lambda xx: check_model(xx, ps, y), 'v1': lambda xx: bench.guarded(forward_and_backward)(xx, y, *ps),
           'v2': lambda xx: forward_and_backward_autograd(xx, y, *ps), 'v3': lambda xx: layers.Model(*ps)(xx, y),
           'v5': lambda xx: module.Model(*ps)(xx, y), 'v6': lambda xx: torch_nn.forward_and_backward_nn(xx, y, *ps)}


@pytest.mark.parametrize('entry', list(ENTRIES))
@pytest.mark.parametrize('kind', ['list', 'numpy'])
def test_non_tensor_input_is_named(entry, kind):
    xx = x.tolist() if kind == 'list' else x.numpy()
    with pytest.raises(TypeError, match=r'is a (list|numpy\.ndarray), expected a torch\.Tensor: convert it with torch\.tensor'):
        ENTRIES[entry](xx)


def test_the_guards_keep_their_old_import_paths():
    from lesson08 import forward, guards
    for name in ('shape_str', 'check_tensor', 'check_shape', 'match_targ', 'check_params', 'check_model'):
        assert getattr(forward, name) is getattr(guards, name), name


@pytest.mark.parametrize('make', [lambda *p: check_model(x, p), layers.Model, module.Model, torch_nn.TorchModel])
def test_params_that_are_not_pairs_are_named(make):
    with pytest.raises(ValueError, match=r'takes \(w, b\) pairs, e\.g\. .*\(w1, b1, w2, b2\); got 3 tensors'):
        make(*ps[:3])
