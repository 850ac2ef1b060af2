"""The benchmark's outputs: that its figures are those of its own rounds and memory peaks (never a bound on a time: timings are machine noise)."""
import json, statistics, subprocess, sys
from pathlib import Path

import pytest

from lesson08 import backward, bench

BIN = Path(sys.executable).parent


def test_json_has_every_version(tmp_path):
    out = tmp_path/'bench.json'
    r = subprocess.run([BIN/'lesson08', 'bench', '--n', '600', '--repeats', '3', '--json', out, '--chart', tmp_path/'c.png'],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    res = json.loads(out.read_text())
    assert list(res['versions']) == list(bench.VERSIONS) and res['rounds'] == 3
    measurable = bench._hwm() is not None      # False only where the OS has no peak to read (Windows): then null, never 0
    for name, v in res['versions'].items():
        t, f, ratios = v['times_s'], v['floors_s'], v['ratios']
        assert len(t) == len(f) == len(ratios) == 3 and min(t) > 0 and min(f) > 0
        # the summary figures are those of this version's own three rounds
        assert (v['median_s'], v['min_s'], v['max_s'], v['floor_s']) == (statistics.median(t), min(t), max(t), statistics.median(f))
        assert ratios == pytest.approx([a / b for a, b in zip(t, f)], rel=1e-9)
        assert v['x_floor'] == statistics.median(ratios)
        # the middle half of three rounds' ratios: its ends (inclusive quartiles) are halfway from the median to each extreme
        lo, mid, hi = sorted(ratios)
        assert lo <= v['x_floor_q1'] <= mid <= v['x_floor_q3'] <= hi, (name, ratios, v['x_floor_q1'], v['x_floor_q3'])
        assert (v['x_floor_q1'], v['x_floor_q3']) == pytest.approx(((lo + mid) / 2, (mid + hi) / 2), rel=1e-12), (name, ratios)
        if measurable: assert isinstance(v['peak_bytes'], int) and v['peak_bytes'] >= 0, (name, v['peak_bytes'])
        else: assert v['peak_bytes'] is None, (name, v['peak_bytes'])
    if measurable:
        # v1 and v3 build the (600, 784, 50) float32 outer product, 94 MB at once (under the 256 MiB chunk budget), in a fresh
        # process each: their peaks must show it; v5 does the same maths with matmuls and must stay well under it
        outer = backward.outer_bytes(600, 784, 50)
        peaks = {k: v['peak_bytes'] for k, v in res['versions'].items()}
        assert peaks['v1'] >= 0.9 * outer and peaks['v3'] >= 0.9 * outer, (outer, peaks)
        assert peaks['v5'] < outer / 2 and peaks['v5-tuned'] < outer / 2, (outer, peaks)
    assert set(res['goals']) == {'v5_time_vs_floor', 'v5_time_vs_autograd', 'v5_peak_vs_autograd', 'tuned_time_vs_floor',
                                 'tuned_peak_vs_autograd', 'xg_cost', 'fit_vs_torch'}
    assert isinstance(res['noise'], list) and res['train']['n_train'] == 600 and res['train']['hand_samples_per_s'] > 0
    t, st = res['train'], res['steps']          # the training figures are those of their own rounds too
    assert (t['rounds'], t['threads'], st['rounds']) == (3, 1, 3) and res['goals']['fit_vs_torch'] == t['hand_over_nn']
    assert t['hand_samples_per_s'] == pytest.approx(600 / (t['hand_ms'] / 1e3), rel=1e-9)
    assert st['module_us_per_call'] == pytest.approx((st['us']['model'] - st['us']['maths']) / 8, rel=1e-9)
    assert st['checks_us_per_step'] == pytest.approx(st['us']['checked'] - st['us']['model'], rel=1e-9)
    assert 'one epoch of fit against the PyTorch loop (fit_torch) on 600 rows' in r.stdout
    assert res['threads'] >= 1 and 'interleaved rounds' in r.stdout
    assert res['floor']['train_flops'] == 2 * 600 * (784 * 50 * 2 + 50 * 3)
    assert 'v5' in r.stdout and 'floor' in r.stdout and (tmp_path/'c.png').stat().st_size > 1000


def test_no_chunk_is_refused_without_memory():
    try:
        bench.check_no_chunk(50_000, available=2 * 2**30)
    except MemoryError as e:
        assert '7.84 GB outer product' in str(e) and '2.1 GB is available' in str(e)
    else:
        raise AssertionError('expected a MemoryError')
    r = subprocess.run([BIN/'lesson08', 'bench', '--n', '10000000', '--no-chunk', '--versions', 'v1'], capture_output=True, text=True)
    assert r.returncode == 2 and 'needs about' in r.stderr


def test_unknown_version_is_a_clear_error():
    r = subprocess.run([BIN/'lesson08', 'bench', '--versions', 'v7'], capture_output=True, text=True)
    assert r.returncode == 2 and "unknown versions ['v7']" in r.stderr


# The matmul ladder (`lesson08 bench --matmul`): its figures are those of its own rounds; the peak is estimated, or honestly absent

RUNGS = ['loops', 'elementwise', 'broadcast', 'einsum', 'matmul']
INTEL = "processor\t: 0\nflags\t\t: fpu sse2 fma avx2 avx512f\ncpu MHz\t\t: 2600.000\nsiblings\t: 2\ncpu cores\t: 2\n"


def check_matmul_schema(res):
    assert list(res) == ['shape', 'repeats', 'threads', 'rungs', 'lecture_2019_s', 'peak'] and res['shape'] == [5, 784, 10]
    assert list(res['rungs']) == RUNGS and res['lecture_2019_s'] == bench.LECTURE_2019_S
    assert list(res['peak']) == ['n', 'gflops', 'peak_gflops', 'how'] and res['peak']['gflops'] > 0 and res['peak']['how']
    loops = res['rungs']['loops']['median_s']
    for name, r in res['rungs'].items():
        assert list(r) == ['median_s', 'speedup', 'gflops'] and r['median_s'] > 0, (name, r)
        assert r['speedup'] == pytest.approx(loops / r['median_s'], rel=1e-9)
        assert r['gflops'] == pytest.approx(2 * 5 * 784 * 10 / r['median_s'] / 1e9, rel=1e-9)
    p = res['peak']
    assert p['peak_gflops'] is None or p['peak_gflops'] > 0


def test_matmul_bench_returns_its_own_medians():
    res = bench.run_matmul_bench(repeats=1, peak_n=64, log=lambda s: None)
    check_matmul_schema(res)
    assert res['repeats'] == 1 and res['peak']['n'] == 64 and res['rungs']['loops']['speedup'] == 1.0
    assert res['rungs']['matmul']['speedup'] > 100, res['rungs']


def test_peak_estimate(monkeypatch):
    files = {'/proc/cpuinfo': INTEL}
    def read(path):
        if path in files: return files[path]
        raise FileNotFoundError(2, 'No such file', path)
    monkeypatch.setattr(bench, '_read_text', read)
    g, how = bench.peak_gflops(2)
    assert g == pytest.approx(2 * 16 * 2 * 2 * 2.6) and '16 float32 lanes (AVX-512)' in how and '2 FMA units per core assumed' in how
    files['/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq'] = '3000000\n'
    assert bench.peak_gflops(1)[0] == pytest.approx(1 * 16 * 2 * 2 * 3.0)
    files.clear()                                     # no /proc: macOS, Windows
    g, how = bench.peak_gflops(2)
    assert g is None and "/proc/cpuinfo can't be read" in how
    assert 'estimated peak: n/a' in bench.matmul_table(bench.run_matmul_bench(repeats=1, peak_n=32, log=lambda s: None))


def test_saved_matmul_results_are_complete():
    res = json.loads((Path(__file__).parent.parent/'nbs'/'matmul_results.json').read_text())
    check_matmul_schema(res)
    out = bench.matmul_table(res).splitlines()
    assert len(out) == 9 and [line.split()[0] for line in out[2:7]] == RUNGS and out[8] == f"how: {res['peak']['how']}"
