"""The explorer's edges: bad arguments get one clear line; every question from the front end gets an answer;
no inf or NaN reaches the widget's JSON; layers are recognised by class, and code lines by what they assign."""
import json

import numpy as np
import pytest
import torch

from lesson08 import explorer, layers, module
from lesson08.explorer import ChainRuleExplorer, explain, explain_entry, explore, explorer_data, run_backward
from lesson08.forward import init_params

torch.manual_seed(0)
PS = init_params(5, 3, 1)                        # w1 (5, 3), b1 (3,), w2 (3, 1), b2 (1,)
X, Y = torch.randn(6, 5), torch.randn(6)
REC = run_backward(module.Model(*PS), X, Y)
ENTRIES = {'explain': lambda name, ix, top=8: explain(module.Model(*PS), X, Y, name, ix, top),
           'explain_entry': lambda name, ix, top=8: explain_entry(REC, name, ix, top)}


def one_line(e): return '\n' not in str(e.value)


@pytest.mark.parametrize('entry', list(ENTRIES))
@pytest.mark.parametrize('index', [(3.7, 1), (3.0, 1), '31', (True, 1), torch.tensor([3, 1]), [[3, 1]], None])
def test_an_index_that_is_not_ints_is_refused(entry, index):
    with pytest.raises(TypeError, match=r'^w1\.g has shape \(5, 3\): its index is a tuple of 2 ints, from \(0, 0\) to \(4, 2\); got ') as e:
        ENTRIES[entry]('w1.g', index)
    assert one_line(e)


@pytest.mark.parametrize('entry', list(ENTRIES))
def test_an_index_out_of_range_or_of_the_wrong_length_names_the_range(entry):
    with pytest.raises(IndexError, match=r'from \(0, 0\) to \(4, 2\); got \(5, 0\)'): ENTRIES[entry]('w1.g', (5, 0))
    with pytest.raises(IndexError, match=r'from \(0, 0\) to \(4, 2\)'): ENTRIES[entry]('w1.g', (-1, 0))
    with pytest.raises(ValueError, match=r'b1\.g has shape \(3\): its index is a tuple of 1 int, from \(0,\) to \(2,\); got \(1, 2\)'):
        ENTRIES[entry]('b1.g', (1, 2))


@pytest.mark.parametrize('entry', list(ENTRIES))
def test_a_name_that_is_not_a_gradient_lists_the_gradients(entry):
    have = "b1.g, b2.g, t.g, u.g, v.g, w1.g, w2.g, x.g"
    with pytest.raises(TypeError, match=f"name must be a string, one of this model's gradients: {have}; got None"): ENTRIES[entry](None, (0, 0))
    with pytest.raises(ValueError, match=f"'w9.g' is not a gradient of this model; it has {have}"): ENTRIES[entry]('w9.g', (0, 0))
    with pytest.raises(ValueError, match="'w1' is not a gradient"): ENTRIES[entry]('w1', (0, 0))


@pytest.mark.parametrize('entry', list(ENTRIES))
@pytest.mark.parametrize('top, err', [(-1, ValueError), (0, ValueError), (2.5, TypeError), (True, TypeError), ('3', TypeError)])
def test_top_is_a_positive_int(entry, top, err):
    with pytest.raises(err, match='top must be a positive int'): ENTRIES[entry]('w1.g', (0, 0), top)


def test_good_indexes_still_work():
    want = explain_entry(REC, 'w1.g', (3, 1))['value']
    for ix in ([3, 1], (np.int64(3), np.int32(1)), (torch.tensor(3).item(), 1)): assert explain_entry(REC, 'w1.g', ix)['value'] == want
    assert explain_entry(REC, 'b1.g', 2)['index'] == (2,) and len(explain_entry(REC, 'w1.g', (0, 0), top=1)['terms']) == 2


@pytest.mark.parametrize('call', [lambda x, y: explain(module.Model(*PS), x, y, 'w1.g', (0, 0)), lambda x, y: explorer_data(module.Model(*PS), x, y),
                                  lambda x, y: explore(module.Model(*PS), x, y)], ids=['explain', 'explorer_data', 'explore'])
def test_an_empty_batch_is_named(call):
    with pytest.raises(ValueError, match='^x has no rows'): call(torch.zeros(0, 5), torch.zeros(0))


def test_explore_selected_is_an_int():
    for bad in (1.0, True, '1'):
        with pytest.raises(TypeError, match='selected must be the number of a step'): explore(module.Model(*PS), X, Y, selected=bad)


def test_a_large_batch_says_it_takes_a_few_seconds(capsys):
    explorer_data(module.Model(*PS), X, Y); assert capsys.readouterr().out == ''
    explorer_data(module.Model(*PS), torch.randn(20_001, 5), torch.randn(20_001))
    assert '20,001 rows: precomputing the explanations takes several seconds' in capsys.readouterr().out


# ---- the widget: every query and every rate gets an answer

@pytest.fixture
def w(): return ChainRuleExplorer(rec=REC, data={'steps': [{}] * 4})


def test_an_answer_echoes_key_and_nonce_so_a_repeated_query_is_answered(w):
    q = {'key': 'w1.g[3,1]', 'name': 'w1.g', 'index': [3, 1]}
    w.query = {**q, 'nonce': 1}; first = w.answer
    assert (first['key'], first['nonce']) == ('w1.g[3,1]', 1) and 'error' not in first
    w.answer = {}; w.query = {**q, 'nonce': 2}              # the same entry again, after the front end cleared its answer
    assert w.answer == {**first, 'nonce': 2}


@pytest.mark.parametrize('q, says', [({'name': 7, 'index': [0, 0]}, 'name must be a string'), ({'name': ['w1.g'], 'index': [0, 0]}, 'name must be a string'),
                                     ({'name': 'w1.g', 'index': '31'}, 'its index is a tuple of 2 ints'), ({'name': 'w1.g', 'index': [3.5, 1]}, 'got [3.5, 1]'),
                                     ({'name': 'w1.g'}, "a query has a 'name' and an 'index'"), ({'index': [0, 0]}, "a query has a 'name' and an 'index'"),
                                     ({'name': 'w1.g', 'index': [0, 9]}, 'from (0, 0) to (4, 2)'), ({'name': 'w1.g', 'index': {'a': 1}}, 'its index is')])
def test_a_bad_query_gets_an_error_answer(w, q, says):
    w.query = {'key': 'k', 'nonce': 5, **q}
    assert w.answer['key'] == 'k' and w.answer['nonce'] == 5 and says in w.answer['error'] and '\n' not in w.answer['error']
    json.dumps(w.answer, allow_nan=False)


def test_a_widget_with_no_model_still_answers():
    w = ChainRuleExplorer(data={}, query={'key': 'k', 'name': 'w1.g', 'index': [0, 0], 'nonce': 1}, lr=0.1)
    assert w.answer['nonce'] == 1 and 'no model' in w.answer['error'] and 'no model' in w.learned['error']


def big():
    "A model whose loss is finite but whose step at lr 0.1 overflows float32."
    g = torch.Generator().manual_seed(1)
    return module.Model(*(torch.randn(*s, generator=g) * 1e8 for s in [(5, 3), (3,), (3, 1), (1,)])), torch.randn(6, 5, generator=g), torch.randn(6, generator=g)


def test_an_overflowing_step_is_none_with_overflow_not_inf(w):
    w.lr = 0.01; assert w.learned['lr'] == 0.01 and np.isfinite(w.learned['loss']) and w.learned['overflow'] is False
    m, x, y = big(); w = explore(m, x, y)
    w.lr = 0.05
    assert w.learned == {'lr': 0.05, 'loss': None, 'overflow': True}
    json.dumps(w.learned, allow_nan=False)


def test_the_widget_data_has_no_inf_or_nan():
    m, x, y = big(); d = explorer_data(m, x, y)
    assert any(ov for _, _, ov in d['learn']) and all((loss is None) == ov for _, loss, ov in d['learn'])
    json.dumps(d, allow_nan=False)
    small = explorer_data(module.Model(*PS), X, Y)['learn']
    assert [lr for lr, _, _ in small] == list(explorer.LEARNING_RATES) and not any(ov for _, _, ov in small)


def test_a_batch_whose_numbers_overflow_is_refused():
    with pytest.raises(ValueError, match='the numbers overflow on this batch .*: the explorer shows finite numbers only'):
        explorer_data(module.Model(*PS), X * 1e30, Y)


# ---- layers by class, lines by what they assign

class MyRelu(module.Relu): pass                                  # a learner's subclass, whatever its name

class Relu:                                                      # named Relu, but not the lesson's: its backward is unknown
    def __call__(self, inp): self.inp = inp; self.out = inp.clamp_min(0); return self.out
    def backward(self): self.inp.g = (self.inp > 0) * self.out.g

class Lin(module.Lin):
    def bwd(self, out, x):
        # inp.g = ... is what a layer sets; this one names its input x
        if self.input_grad: x.g = (out.g
                                   @ self.w.t())
        self.w.g = self.weight_grad(x, out.g)
        self.b.g = out.g.sum(0)


def test_layers_are_recognised_by_class_not_name():
    m = module.Model(*PS); m.layers[1] = MyRelu()
    assert [s['label'] for s in explorer_data(m, X, Y)['steps']] == ['∂MSE/∂u', '∂l2/∂v', '∂ReLU/∂t', '∂l1/∂x']
    m.layers[1] = Relu()
    with pytest.raises(TypeError, match=r'understands linear and Relu layers from lesson08 .*, not test_explorer_inputs\.Relu$'): explorer_data(m, X, Y)
    m = layers.Model(*PS); m.loss = type('Mse', (), {'__call__': lambda self, a, b: 0., 'backward': lambda self: None})()
    with pytest.raises(TypeError, match="the lesson's MSE loss"): explorer_data(m, X, Y)


def test_the_highlighted_lines_are_the_assignments_to_g():
    s = explorer_data(module.Model(*PS, lin=Lin), X, Y)['steps'][-1]
    assert s['source'].endswith('test_explorer_inputs.Lin.bwd')
    assert s['code'][s['main_line']].strip().startswith('if self.input_grad: x.g = (out.g')          # not the comment above it
    assert [s['code'][j].strip()[:8] for j in s['param_lines']] == ['self.w.g', 'self.b.g']
    for model, line in ((module.Model(*PS), 'if self.input_grad: inp.g = out.g @ self.w.t()'), (layers.Model(*PS), 'self.inp.g = self.out.g @ self.w.t()')):
        steps = explorer_data(model, X, Y)['steps']
        assert steps[1]['code'][steps[1]['main_line']].strip() == line
        assert 'inp.g' in steps[0]['code'][steps[0]['main_line']] and 'inp.g' in steps[2]['code'][steps[2]['main_line']]   # Mse, Relu


# ---- what the module exports

def test_the_module_exports_what_learners_use():
    assert explorer.__all__ == ['explain', 'explorer_data', 'shapes', 'explore']
    for name in explorer.__all__:
        doc = getattr(explorer, name).__doc__
        assert doc and '\n' not in doc.strip(), name
