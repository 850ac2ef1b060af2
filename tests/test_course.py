"""The course as a course: the seven lessons stay lean, each has code to write early, the lecture is linked at its
moments, and a learner's copy shows no nbdev plumbing."""
import json, re
from pathlib import Path

import pytest

from lesson08.cli import learner_copy

NBS = Path(__file__).resolve().parent.parent/'nbs'
LESSONS = ['02_forward', '03_backward', '04_autograd', '05_layers', '06_module', '07_torch_nn', '08_train']
WORD = re.compile(r"[A-Za-z0-9]+(?:['’.,-][A-Za-z0-9]+)*")


def cells(stem): return json.loads((NBS/f'{stem}.ipynb').read_text(encoding='utf-8'))['cells']
def src(c): return ''.join(c['source'])


def words(text):
    "Words of prose: runs of letters and digits; a LaTeX command or a link's address is not a word."
    return len(WORD.findall(re.sub(r'\\[a-zA-Z]+|\]\([^)]*\)', ' ', text)))


def prose(stem): return [words(src(c)) if c['cell_type'] == 'markdown' else 0 for c in cells(stem)]


def test_the_counter_counts_words():
    assert words('The chain rule: $\\frac{\\partial L}{\\partial w}$, see [the video](https://x.org/?t=1).') == 8          # The chain rule L w see the video
    assert words("don't (N,1) 3.81 µs") == 4


@pytest.mark.parametrize('stem', ['01_matmul', '12_engine'])
def test_the_first_and_the_last_notebooks_are_lean_too(stem):
    assert sum(prose(stem)) <= 1500


def test_the_lessons_are_lean():
    counts = {s: sum(prose(s)) for s in LESSONS}
    print(counts, sum(counts.values()))
    assert all(n <= 1500 for n in counts.values()), counts
    assert sum(counts.values()) <= 5000, counts


def exercise_cells(stem): return [i for i, c in enumerate(cells(stem)) if c['cell_type'] == 'code' and re.search(r"\bexercise\('\w+'\)", src(c))]


@pytest.mark.parametrize('stem', ['01_matmul', '02_forward', '03_backward', '04_autograd', '05_layers', '07_torch_nn', '12_engine'])
def test_every_lesson_has_code_to_write(stem):
    from lesson08.checker import EXERCISES
    found = exercise_cells(stem)
    assert found, f'{stem} has no exercise'
    for i in found:
        for name in re.findall(r"\bexercise\('(\w+)'\)", src(cells(stem)[i])): assert name in EXERCISES, name


def test_the_first_exercise_comes_early():
    first = exercise_cells('02_forward')[0]
    assert sum(prose('02_forward')[:first]) <= 1000


VIDEO = {'01_matmul': [1850, 2159, 2342, 2682, 3110, 4280, 4702], '02_forward': [4960, 5128, 5255, 6372], '03_backward': [6493], '05_layers': [7112], '06_module': [7484]}


@pytest.mark.parametrize('stem', VIDEO)
def test_the_lecture_is_linked_at_its_moments(stem):
    text = ' '.join(src(c) for c in cells(stem))
    for t in VIDEO[stem]: assert f'course19.fast.ai/videos/?lesson=8&t={t}' in text, (stem, t)


def test_the_last_lesson_points_to_lecture_9():
    assert 'course19.fast.ai/videos/?lesson=9' in ' '.join(src(c) for c in cells('08_train'))


@pytest.mark.parametrize('stem', [p.stem for p in sorted(NBS.glob('[0-9A]*.ipynb'))])
def test_a_learners_copy_shows_no_plumbing(stem):
    nb = learner_copy(json.loads((NBS/f'{stem}.ipynb').read_text(encoding='utf-8')))
    code = [src(c) for c in nb['cells'] if c['cell_type'] == 'code']
    assert not any(re.search(r'^#\s*\|', s, re.M) for s in code)
    assert not any(re.search(r'\b(fastcore|test_eq|test_fail|test_close)\b|^\s*(from|import) nbdev', s, re.M) for s in code)


@pytest.mark.parametrize('stem', ['01_matmul'] + LESSONS + ['12_engine'])
def test_no_talk_of_how_the_course_is_built(stem):
    text = ' '.join(src(c) for c in cells(stem) if c['cell_type'] == 'markdown').lower()
    for phrase in ('test suite', 'the tests ', 'ci=true', 'continuous integration', 'sessions that', 'was lent', 'build machine'):
        assert phrase not in text, (stem, phrase)
