"lesson08.engine (nbs/12_engine.ipynb): every gradient against PyTorch's autograd in float64, with autograd kept out of the engine's own run."
import random

import pytest
import torch
from torch.overrides import TorchFunctionMode

import lesson08.engine as E
from lesson08.engine import Tensor, accumulate, tanh, topo, unbroadcast

F64 = torch.float64


class NoAutograd(TorchFunctionMode):
    "Inside: any backward/autograd.grad call, or any torch op on a tensor that requires grad, raises."
    BANNED = {torch.Tensor.backward, torch.autograd.backward, torch.autograd.grad}
    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in self.BANNED: raise AssertionError(f"the engine called {func.__name__}")
        for a in list(args) + list(kwargs.values()):
            if isinstance(a, torch.Tensor) and a.requires_grad: raise AssertionError(f"{func} on a tensor that requires grad")
        return func(*args, **kwargs)


def engine_grads(build, leaves):
    "Run `build` on Tensors wrapping detached copies of `leaves` with autograd refused; their `.grad`s."
    ts = [Tensor(l.detach().clone()) for l in leaves]
    with torch.no_grad(), NoAutograd():
        loss = build(ts, tanh=tanh, relu=lambda t: t.relu())
        assert isinstance(loss, Tensor)
        loss.backward()
        assert not any(t.data.requires_grad or (t.grad is not None and t.grad.requires_grad) for t in ts)
    return loss, [t.grad for t in ts]


def torch_grads(build, leaves):
    ls = [l.detach().clone().requires_grad_(True) for l in leaves]
    loss = build(ls, tanh=torch.tanh, relu=torch.relu)
    loss.backward()
    return loss, [l.grad for l in ls]


def random_net(rng):
    "A random network on a batch (often of 1): 1-4 layers of odd widths, sometimes a weight shared by two layers, sometimes a residual branch."
    n_layers = rng.randint(1, 4)
    width = rng.choice([1, 3, 5, 7])
    batch = rng.choice([1, 1, 3])
    shared = n_layers >= 2 and rng.random() < 0.5
    residual = rng.random() < 0.5
    g = torch.Generator().manual_seed(rng.randint(0, 10**6))
    r = lambda *s: torch.randn(*s, generator=g, dtype=F64)
    n_in = rng.choice([1, 3, 5])
    leaves = [r(batch, n_in), r(n_in, width), r(width)]
    for _ in range(n_layers - 1): leaves += [r(width, width), r(width)]
    leaves += [r(width, width)]                                  # the residual branch's weight
    targ = torch.randint(0, width, (batch,), generator=g) if width > 1 else None

    def build(ts, tanh, relu):
        x, w0, b0, *rest = ts
        h = relu(x @ w0 + b0)
        ws = rest[:-1]
        for i in range(0, len(ws), 2):
            w = ws[0] if shared and i == 2 else ws[i]             # the third layer reuses the second's weight
            h = relu(h @ w + ws[i + 1]) if i % 4 == 0 else tanh(h @ w + ws[i + 1])
        if residual: h = h + relu(h @ rest[-1])
        h = 0.5 * h - 0.25
        if targ is None: return (h * h).mean() + (1 - h).sum()
        if isinstance(h, Tensor): return h.cross_entropy(targ) + h.sum() * 0.1
        return torch.nn.functional.cross_entropy(h, targ) + h.sum() * 0.1
    return build, leaves, dict(layers=n_layers, width=width, batch=batch, shared=shared, residual=residual)


@pytest.mark.parametrize('seed', range(40))
def test_random_networks_match_autograd(seed):
    build, leaves, desc = random_net(random.Random(seed))
    el, eg = engine_grads(build, leaves)
    tl, tg = torch_grads(build, leaves)
    assert abs(el.data.item() - tl.item()) < 1e-10, desc
    assert sum(a is not None for a in eg) >= 3
    for i, (a, b) in enumerate(zip(eg, tg)):
        assert (a is None) == (b is None), (desc, i)       # a weight the network never used gets no gradient
        if a is None: continue
        assert a.shape == b.shape and a.dtype == F64, (desc, i)
        assert (a - b).abs().max() < 1e-10, (desc, i, (a - b).abs().max())


def test_the_random_networks_cover_sharing_residuals_and_batch_one():
    descs = [random_net(random.Random(s))[2] for s in range(40)]
    assert any(d['shared'] for d in descs) and any(d['residual'] for d in descs)
    assert any(d['batch'] == 1 for d in descs) and {d['layers'] for d in descs} == {1, 2, 3, 4}


def test_a_weight_used_twice_gets_both_uses():
    w = torch.randn(4, 4, dtype=F64); x = torch.randn(3, 4, dtype=F64)
    _, (ew,) = engine_grads(lambda ts, **_: (Tensor(x) @ ts[0] @ ts[0]).sum(), [w])
    _, (tw,) = torch_grads(lambda ts, **_: (x @ ts[0] @ ts[0]).sum(), [w])
    assert (ew - tw).abs().max() < 1e-12


def test_an_assigning_accumulate_is_caught(monkeypatch):
    "The buggy accumulate of the lesson (assign, don't add) gives a wrong gradient for a shared weight."
    monkeypatch.setattr(E, 'accumulate', lambda t, g: setattr(t, 'grad', unbroadcast(g, t.data.shape)))
    w = torch.randn(4, 4, dtype=F64); x = torch.randn(3, 4, dtype=F64)
    _, (ew,) = engine_grads(lambda ts, **_: (Tensor(x) @ ts[0] @ ts[0]).sum(), [w])
    _, (tw,) = torch_grads(lambda ts, **_: (x @ ts[0] @ ts[0]).sum(), [w])
    assert (ew - tw).abs().max() > 1e-3


def test_closures_look_accumulate_up_at_call_time(monkeypatch):
    calls, real = [], E.accumulate
    monkeypatch.setattr(E, 'accumulate', lambda t, g: (calls.append(t), real(t, g)))
    a = Tensor(torch.randn(3)); s = (a * 2).sum(); s.backward()
    assert any(c is a for c in calls) and torch.equal(a.grad, torch.full((3,), 2.))
    assert len(calls) == 3                        # sum -> a*2, then a*2 -> a and the number 2


def test_broadcast_gradients_are_summed_back():
    cases = [((5, 3), (3,)), ((5, 1), (1, 3)), ((5, 3), ()), ((2, 5, 3), (5, 1)), ((1, 3), (4, 1, 3))]
    for sa, sb in cases:
        a, b = torch.randn(sa, dtype=F64), torch.randn(sb, dtype=F64)
        for op in (lambda p, q: p + q, lambda p, q: p - q, lambda p, q: p * q):
            _, eg = engine_grads(lambda ts, **_: (op(ts[0], ts[1]) * op(ts[0], ts[1])).sum(), [a, b])
            _, tg = torch_grads(lambda ts, **_: (op(ts[0], ts[1]) * op(ts[0], ts[1])).sum(), [a, b])
            for x, y in zip(eg, tg): assert x.shape == y.shape and (x - y).abs().max() < 1e-10, (sa, sb)


def test_unbroadcast():
    g = torch.arange(12., dtype=F64).view(4, 3)
    assert torch.equal(unbroadcast(g, (3,)), g.sum(0))
    assert torch.equal(unbroadcast(g, (4, 1)), g.sum(1, keepdim=True))
    assert torch.equal(unbroadcast(g, (1, 3)), g.sum(0, keepdim=True))
    assert unbroadcast(g, ()).shape == () and unbroadcast(g, ()).item() == 66.
    assert torch.equal(unbroadcast(torch.ones(2, 4, 3), (4, 1)), torch.full((4, 1), 6.))
    u = unbroadcast(g, (4, 3))
    assert torch.equal(u, g) and u.data_ptr() != g.data_ptr()    # a new tensor: adding into a .grad never changes another


def test_numbers_on_either_side():
    a = torch.randn(3, 2, dtype=F64)
    f = lambda t: ((2 - t) * 3 + 1 - (t * t) * 0.5 + (-t)).mean()
    _, (eg,) = engine_grads(lambda ts, **_: f(ts[0]), [a])
    _, (tg,) = torch_grads(lambda ts, **_: f(ts[0]), [a])
    assert (eg - tg).abs().max() < 1e-12


def test_cross_entropy_matches_torch():
    z = torch.randn(6, 10, dtype=F64) * 30; t = torch.randint(0, 10, (6,))
    el, (eg,) = engine_grads(lambda ts, **_: ts[0].cross_entropy(t), [z])
    tl, (tg,) = torch_grads(lambda ts, **_: torch.nn.functional.cross_entropy(ts[0], t), [z])
    assert abs(el.data.item() - tl.item()) < 1e-10 and (eg - tg).abs().max() < 1e-12


def test_a_chain_of_3000_operations():
    x = torch.tensor([0.5], dtype=F64)
    def build(ts, tanh, **_):
        h = ts[0]
        for _ in range(1000): h = tanh(h * 1.01 + 0.001)          # 3 operations per step
        return h.sum()
    e, (eg,) = engine_grads(build, [x])
    assert len(topo(e)) > 3000
    _, (tg,) = torch_grads(build, [x])
    assert (eg - tg).abs().max() < 1e-10


def test_each_backward_runs_once_in_a_diamond():
    a = Tensor(torch.randn(3, dtype=F64))
    b = a * 2; c = b.relu() + b * b; d = (c + b).sum()
    counts = {}
    for t in topo(d):
        f = t._backward
        def counted(f=f, t=t): counts[id(t)] = counts.get(id(t), 0) + 1; f()
        t._backward = counted
    d.backward()
    assert len(counts) == len(topo(d)) == 8 and set(counts.values()) == {1}
    ar = a.data.clone().requires_grad_(True); br = ar * 2; ((br.relu() + br * br) + br).sum().backward()
    assert (a.grad - ar.grad).abs().max() < 1e-12


def test_topo_puts_parents_first():
    a, b = Tensor(torch.ones(2)), Tensor(torch.ones(2))
    c = a * b; d = c + a; e = (d * c).sum()
    order = topo(e)
    assert len(order) == len({id(t) for t in order}) == 6
    pos = {id(t): i for i, t in enumerate(order)}
    assert all(pos[id(p)] < pos[id(t)] for t in order for p in t.parents) and order[-1] is e


def test_a_second_backward_accumulates_into_the_leaves():
    x = torch.randn(3, 4, dtype=F64); w = torch.randn(4, 2, dtype=F64)
    tw = Tensor(w.clone())
    loss = (Tensor(x) @ tw).relu().sum()
    loss.backward(); first = tw.grad.clone()
    loss.backward()
    assert torch.allclose(tw.grad, 2 * first, atol=0, rtol=1e-12)
    wr = w.clone().requires_grad_(True); lr = (x @ wr).relu().sum()
    lr.backward(retain_graph=True); lr.backward()
    assert (tw.grad - wr.grad).abs().max() < 1e-12


def test_backward_wants_a_single_number():
    t = Tensor(torch.randn(3, 2))
    with pytest.raises(ValueError, match=r"single number.*shape \(3, 2\).*\.sum\(\) or \.mean\(\)"): (t * 2).backward()
    with pytest.raises(ValueError): (t * 2).sum(); Tensor(torch.randn(1)).backward()


def test_leaves_and_ops_are_recorded():
    a, b = Tensor(torch.ones(2, 3)), Tensor(torch.ones(3, 4))
    c = (a @ b).relu()
    assert (a.op, a.parents, a.grad) == ('', (), None)
    assert c.op == 'relu' and c.parents[0].op == '@' and c.parents[0].parents == (a, b)


def test_the_engine_stays_short():
    code = [l for l in open(E.__file__).read().splitlines() if l.strip() and not l.strip().startswith('#')]
    assert len(code) < 150, len(code)


def test_fit_with_the_engine_takes_the_hand_written_steps():
    from lesson08.train import fit
    g = torch.Generator().manual_seed(0)
    x = torch.randn(300, 20, generator=g); y = torch.randint(0, 10, (300,), generator=g)
    data = (x, y, x[:50], y[:50])
    for loss in ('ce', 'mse'):
        h, e = fit(data, loss, epochs=2, nh=7, bs=32), fit(data, loss, epochs=2, nh=7, bs=32, engine=True)
        assert len(h['batch_losses']) == len(e['batch_losses']) == 20
        assert max(abs(a - b) for a, b in zip(h['batch_losses'], e['batch_losses'])) < 1e-4
        for p, q in zip(h['params'], e['params']): assert (p - q).abs().max() < 1e-4
    with pytest.raises(ValueError, match='not both'): fit(data, autograd=True, engine=True)
