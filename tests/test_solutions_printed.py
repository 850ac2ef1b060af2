"""Each solution that `q.solution()` prints runs as it stands in the cell where its exercise is posed, and passes the checker."""
import json
from pathlib import Path

import pytest

from lesson08.checker import EXERCISES, check
from lesson08.solutions import solution_source

NBS = Path(__file__).parent.parent/'nbs'
REVIEW = ['mse_grad', 'relu_grad', 'lin_grad', 'Lin', 'Sigmoid', 'forward_and_backward_deep', 'weight_grad', 'cross_entropy_grad']
ENGINE = ['engine_tanh', 'engine_accumulate']


@pytest.fixture(autouse=True)
def in_tmp_folder(tmp_path, monkeypatch):
    "The checker saves progress in the current folder: give each test its own."
    monkeypatch.chdir(tmp_path)


def imports(name) -> str:
    "The imports of the cell where exercise `name` is posed."
    if name in REVIEW:   # the practice notebook's import cell
        nb = json.loads((NBS/'11_practice.ipynb').read_text())
        return next(''.join(c['source']) for c in nb['cells'] if c['cell_type'] == 'code' and 'import' in ''.join(c['source']))
    if name in ENGINE:   # 12_engine's cell: the engine's names are already there (the solution to `engine_accumulate` redefines one)
        return 'import torch\nfrom lesson08.engine import Tensor, accumulate, unbroadcast\nfrom lesson08.checker import exercise\n'
    return 'import torch\nfrom lesson08.checker import exercise\n' + ('from torch import nn\n' if name == 'linear_grads' else '')


def test_every_exercise_is_covered():
    assert set(REVIEW) < set(EXERCISES) and set(ENGINE) < set(EXERCISES) and len(EXERCISES) == 21
    assert list(EXERCISES)[-2:] == ENGINE


@pytest.mark.parametrize('name', list(EXERCISES))
def test_printed_solution_runs_where_the_exercise_is_posed(name):
    ns = {}
    exec(imports(name), ns)
    before = dict(ns)
    exec(solution_source(name), ns)
    new = [k for k in ns if k not in before or ns[k] is not before[k]]
    assert len(new) == 1, new          # the solution defines (or redefines) one thing: the function, class or value the stub has
    assert check(ns[new[0]], name).passed
