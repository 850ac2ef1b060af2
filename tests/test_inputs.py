"""Data enters at the edges: every version's entry point names a list or a numpy array instead of an AttributeError;
the maths inside (lin, relu, model, the backward functions) stays bare."""
import pytest
import torch

from lesson08 import layers, module, torch_nn
from lesson08.backward import forward_and_backward
from lesson08.gradcheck import forward_and_backward_autograd
from lesson08.forward import check_model, init_params

ps = init_params(4, 3, 1)
x, y = torch.randn(5, 4), torch.randn(5)
ENTRIES = {'check_model': lambda xx: check_model(xx, ps, y), 'v1': lambda xx: forward_and_backward(xx, y, *ps),
           'v2': lambda xx: forward_and_backward_autograd(xx, y, *ps), 'v3': lambda xx: layers.Model(*ps)(xx, y),
           'v5': lambda xx: module.Model(*ps)(xx, y), 'v6': lambda xx: torch_nn.forward_and_backward_nn(xx, y, *ps)}


@pytest.mark.parametrize('entry', list(ENTRIES))
@pytest.mark.parametrize('kind', ['list', 'numpy'])
def test_non_tensor_input_is_named(entry, kind):
    xx = x.tolist() if kind == 'list' else x.numpy()
    with pytest.raises(TypeError, match=r'is a (list|numpy\.ndarray), expected a torch\.Tensor: convert it with torch\.tensor'):
        ENTRIES[entry](xx)
