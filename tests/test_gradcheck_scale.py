"""The gradient checker at the lecture's size: N = 50,000 rows of MNIST-like float32 data, every version.

No false alarm on correct gradients, over several seeds; and the same checker still catches a
gradient off by a factor 1.001 and a single wrong entry. Figures go to test-artifacts/gradcheck-50k.txt."""
import time

import torch

from lesson08.gradcheck import check_version, forward_and_backward_autograd
from lesson08.data import get_mnist
from lesson08.forward import init_params

N, SEEDS = 50_000, (0, 1, 2)


def versions():
    from lesson08.backward import forward_and_backward
    from lesson08.layers import forward_and_backward_layers
    from lesson08.module import forward_and_backward_einsum, forward_and_backward_module
    from lesson08.torch_nn import forward_and_backward_nn
    return {'v1': forward_and_backward, 'v2': forward_and_backward_autograd, 'v3': forward_and_backward_layers,
            'v4': forward_and_backward_einsum, 'v5': forward_and_backward_module, 'v6': forward_and_backward_nn}


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
        for name, fn in versions().items():
            t = time.time()
            rep = check_version(fn, x, y, ps, show=False, n_fd=1, seed=seed)
            checks += len(rep)
            alarms += [f'seed {seed} {name}: {c}' for c in rep if not c.ok]
            worst = max(rep, key=lambda c: c.max_rel)
            lines.append(f"seed {seed} {name}: {'ok' if rep.ok else 'ALARM'}; worst {worst.name}.g max rel {worst.max_rel:.1e}, "
                         f"fd entries skipped at a corner: {sum(c.fd_skipped for c in rep)}; {time.time() - t:.1f} s")
        # the other side: real errors, on the last version's gradients (v6, in float32)
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
