"""The benchmark's outputs (never its timings: those are machine noise, not test material)."""
import json, subprocess, sys
from pathlib import Path


from lesson08 import bench

BIN = Path(sys.executable).parent


def test_json_has_every_version(tmp_path):
    out = tmp_path/'bench.json'
    r = subprocess.run([BIN/'lesson08', 'bench', '--n', '600', '--repeats', '1', '--json', out, '--chart', tmp_path/'c.png'],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    res = json.loads(out.read_text())
    assert list(res['versions']) == list(bench.VERSIONS)
    for v in res['versions'].values():
        assert v['median_s'] > 0 and v['peak_bytes'] >= 0 and v['x_floor'] > 0 and len(v['times_s']) == len(v['ratios']) == 1
        assert v['x_floor_q1'] <= v['x_floor'] <= v['x_floor_q3']
    assert set(res['goals']) == {'v5_time_vs_floor', 'v5_time_vs_autograd', 'v5_peak_vs_autograd', 'tuned_time_vs_floor',
                                 'tuned_peak_vs_autograd', 'xg_cost'}
    assert isinstance(res['noise'], list) and res['train']['n_train'] == 600 and res['train']['hand_samples_per_s'] > 0
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
