"""Refresh nbs/bench_results.json: one full `lesson08 bench` run on the quiet machine, then three runs with one
other busy process on the machine (issue 14's check), summarised under 'loaded_runs'.

    .venv/bin/python scripts/bench_under_load.py [--n 50000] [--runs 3]

The busy process is `python -c 'while True: pass'`: one core kept at 100% for the whole run.
"""
import argparse, json, statistics, subprocess, sys, tempfile, time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent/'lesson08'


def bench(n, out, extra=()):
    t0 = time.time()
    subprocess.run([BIN, 'bench', '--n', str(n), '--json', out, *extra], check=True, stdout=sys.stderr)
    return json.loads(Path(out).read_text()), time.time() - t0


def summary(res, seconds):
    v = res['versions']
    return {'v5_x_floor': v['v5']['x_floor'], 'v5_x_floor_q1': v['v5']['x_floor_q1'], 'v5_x_floor_q3': v['v5']['x_floor_q3'],
            'v5_over_v2nox': res['goals']['v5_time_vs_autograd'], 'tuned_x_floor': v['v5-tuned']['x_floor'],
            'floor_gflops': res['floor']['train_flops'] / res['floor']['train_seconds'] / 1e9, 'threads': res['threads'], 'noise': res['noise'],
            'seconds': round(seconds)}


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--n', type=int, default=50_000); p.add_argument('--runs', type=int, default=3)
    a = p.parse_args()
    with tempfile.TemporaryDirectory() as d:
        quiet, s = bench(a.n, f'{d}/quiet.json')
        print(f'quiet run: {s:.0f} s', file=sys.stderr)
        loaded = []
        for i in range(a.runs):
            busy = subprocess.Popen([sys.executable, '-c', 'while True: pass'])
            try: res, s = bench(a.n, f'{d}/loaded{i}.json', ['--no-train'])
            finally: busy.kill(); busy.wait()
            loaded.append(summary(res, s))
            print(f'loaded run {i + 1}: {loaded[-1]}', file=sys.stderr)
    r = [x['v5_over_v2nox'] for x in loaded]
    quiet['loaded_runs'] = loaded
    quiet['loaded_spread'] = max(r) / min(r) - 1
    (ROOT/'nbs'/'bench_results.json').write_text(json.dumps(quiet, indent=1) + '\n')
    print(json.dumps({'loaded_runs': loaded, 'v5_over_v2nox_spread': quiet['loaded_spread']}, indent=1))


if __name__ == '__main__':
    main()
