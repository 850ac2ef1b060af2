"""The gradient checker at the lecture's size: N = 50,000 rows of MNIST-like float32 data, every hand-written version.

Each version's gradients are compared with autograd's (and finite differences): no false alarm on correct gradients,
over several seeds; and the same checker still catches a gradient off by a factor 1.001 and a single wrong entry.
Versions 2 and 6 are left out: their gradients are autograd's own, so comparing them with autograd would test nothing.
Figures go to test-artifacts/gradcheck-50k.txt."""
import time

import torch

from lesson08.gradcheck import check_grads, check_version, grad_tol
from lesson08.data import get_mnist
from lesson08.forward import init_params, model, mse

N, SEEDS = 50_000, (0, 1, 2)


def versions():
    """name: (forward and backward, whether it computes x.g), as the benchmark runs them: v1 and v3 chunked by `guarded`
    (unchunked, their outer product alone is 7.84 GB at N = 50,000); v5-nox and v5-tuned are what it times as v5 and v5-tuned."""
    from lesson08.backward import forward_and_backward
    from lesson08.bench import forward_and_backward_tuned, guarded
    from lesson08.layers import forward_and_backward_layers
    from lesson08.module import forward_and_backward_einsum, forward_and_backward_module
    return {'v1': (guarded(forward_and_backward), True), 'v3': (guarded(forward_and_backward_layers), True),
            'v4': (forward_and_backward_einsum, True),
            'v5': (forward_and_backward_module, True),
            'v5-nox': (lambda *a: forward_and_backward_module(*a, input_grad=False), False),
            'v5-tuned': (forward_and_backward_tuned, False)}


def check_params_only(fn, x, y, ps, **kw):
    """`check_version` for a version that computes no x.g: the parameters' gradients, x held fixed (x.g must stay unset),
    at the tolerance `check_version` uses for sums over x's N rows (without x, `check_grads` would size it by the widest layer)."""
    for t in (x, *ps.values()): t.g = None
    fn(x, y, *ps.values())
    assert x.g is None, 'a version without x.g set x.g'
    loss = lambda *p: mse(model(x.to(p[0].dtype), *p), y.to(torch.float64))
    return check_grads(loss, ps, rtol=grad_tol(x.dtype, len(x)), **kw)


def mnist_like(seed):
    "50,000 rows built from the shipped digits: tiled, shuffled, each pixel nudged, so no two rows are equal."
    xt, yt, *_ = get_mnist()
    g = torch.Generator().manual_seed(seed)
    idx = torch.randint(len(xt), (N,), generator=g)
    x = (xt[idx] + 0.02 * torch.rand(N, 784, generator=g)).clamp(0, 1)
    return x, yt[idx].float()


def test_no_false_alarms_and_real_errors_caught_at_50k(artifacts):
    lines, t0, checks, alarms = [], time.time(), 0, []
    for seed in SEEDS:
        x, y = mnist_like(seed)
        ps = dict(zip(['w1', 'b1', 'w2', 'b2'], init_params(seed=seed)))
        for name, (fn, x_grad) in versions().items():
            t = time.time()
            rep = (check_version if x_grad else check_params_only)(fn, x, y, ps, show=False, n_fd=1, seed=seed)
            assert [c.name for c in rep] == (['x'] if x_grad else []) + list(ps), (name, [c.name for c in rep])
            checks += len(rep)
            alarms += [f'seed {seed} {name}: {c}' for c in rep if not c.ok]
            worst = max(rep, key=lambda c: c.max_rel)
            lines.append(f"seed {seed} {name}: {'ok' if rep.ok else 'ALARM'}; worst {worst.name}.g max rel {worst.max_rel:.1e}, "
                         f"fd entries skipped at a corner: {sum(c.fd_skipped for c in rep)}; {time.time() - t:.1f} s")
        # the other side: real errors, on version 5's gradients (in float32)
        versions()['v5'][0](x, y, *ps.values())
        good = {k: t.g.clone() for k, t in {'x': x, **ps}.items()}
        def wrong(k, g):
            for t_name, t in {'x': x, **ps}.items(): t.g = g if t_name == k else good[t_name]
        def again(k, g): return check_version(lambda *a: wrong(k, g), x, y, ps, show=False, n_fd=0)
        scaled = again('w2', good['w2'] * 1.001)
        one = good['w1'].contiguous().clone(); i = int(one.abs().argmax()); one.view(-1)[i] *= 1.01      # one entry of 39,200 off by 1%
        single = again('w1', one)
        lines.append(f"seed {seed}: w2.g × 1.001 caught: {not scaled['w2'].ok} (max rel {scaled['w2'].max_rel:.1e}); "
                     f"one w1.g entry × 1.01 caught: {not single['w1'].ok} (max rel {single['w1'].max_rel:.1e})")
        assert not scaled['w2'].ok and not single['w1'].ok and scaled['w1'].ok
    lines.append(f"{checks} gradient checks on {len(SEEDS)} seeds × {len(versions())} versions at N = {N:,}, float32: "
                 f"{len(alarms)} false alarms; {time.time() - t0:.0f} s")
    (artifacts/'gradcheck-50k.txt').write_text('\n'.join(lines) + '\n')
    print('\n'.join(lines))
    assert alarms == [], alarms
