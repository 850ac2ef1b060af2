"""The learner's path in a real browser: `make lab`, Run All on the explorer, save, restart the server, reopen.

Also the rendering of the chain rule's highlighted factor in JupyterLab's MathJax 3."""
import json, os, signal, subprocess, time
from pathlib import Path

from browser import RED_FACTORS, SCROLL_TO_RED, chromium_page, free_port, need_browser, wait_http
from test_explorer_browser import TOKEN, run_all_and_check

ROOT = Path(__file__).resolve().parent.parent


def git_status():
    return subprocess.run(['git', 'status', '--porcelain', '--', 'nbs', 'lesson08'], cwd=ROOT, capture_output=True, text=True).stdout


def make_lab(tmp_path, course, port):
    "`make lab`, as the README says, with a port, no browser, and fresh JupyterLab user settings for the test."
    settings = tmp_path/'settings'
    for ext, conf in {'@jupyterlab/notebook-extension/tracker': {'windowingMode': 'none'},
                      '@jupyterlab/apputils-extension/notification': {'fetchNews': 'false', 'checkForUpdates': False}}.items():
        (settings/ext).parent.mkdir(parents=True, exist_ok=True)
        (settings/f'{ext}.jupyterlab-settings').write_text(json.dumps(conf))
    args = (f'--dir {course} --port {port} --no-browser -- --ServerApp.ip=127.0.0.1 '
            f'--LabApp.user_settings_dir={settings} --LabApp.workspaces_dir={tmp_path/"ws"}')
    log = open(tmp_path/'lab.log', 'a')
    lab = subprocess.Popen(['make', '-s', 'lab', f'LAB_ARGS={args}'], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                           start_new_session=True, env={**os.environ, 'JUPYTER_TOKEN': TOKEN})
    wait_http(f'http://127.0.0.1:{port}/api?token={TOKEN}', timeout=90)
    return lab


def stop(lab):
    os.killpg(lab.pid, signal.SIGTERM)
    try: lab.wait(20)
    except subprocess.TimeoutExpired: os.killpg(lab.pid, signal.SIGKILL); lab.wait()


def save(page):
    page.locator('.jp-Notebook').first.click()
    page.keyboard.press('Control+s')
    page.wait_for_function("!document.querySelector('.jp-mod-dirty')", timeout=30_000)


def test_run_save_restart_reopen(tmp_path, artifacts):
    "The explorer survives save + server restart, because `make lab` saves widget state; nothing tracked is touched."
    need_browser()
    before, course, port = git_status(), tmp_path/'course', free_port()
    lab = make_lab(tmp_path, course, port)
    try:
        assert (course/'09_explorer.ipynb').is_file(), 'make lab did not copy the notebooks to --dir'
        with chromium_page() as page:
            run_all_and_check(page, port, artifacts)
            save(page)
    finally: stop(lab)
    saved = json.loads((course/'09_explorer.ipynb').read_text())
    state = saved['metadata'].get('widgets', {}).get('application/vnd.jupyter.widget-state+json', {}).get('state', {})
    assert any(m.get('model_name') == 'AnyModel' for m in state.values()), 'the saved notebook has no anywidget state'

    lab = make_lab(tmp_path, course, port)     # come back later: a new server, the same folder, no kernel run
    try:
        with chromium_page() as page:
            page.goto(f'http://127.0.0.1:{port}/lab/tree/09_explorer.ipynb?token={TOKEN}')
            page.wait_for_function("document.querySelectorAll('.l08x .l08x-factor').length >= 10", timeout=60_000)
            page.locator('.l08x').first.scroll_into_view_if_needed()
            text = page.evaluate("() => document.querySelector('.jp-Notebook').innerText")
            assert 'model not found' not in text and 'Error displaying widget' not in text
            page.locator('.l08x-factor[data-step="1"]').first.click()           # still clickable with no kernel output
            page.wait_for_function("document.querySelector('.l08x .l08x-btn.l08x-selected').textContent === '∂l2/∂v'", timeout=10_000)
            page.screenshot(path=str(artifacts/'lab-explorer-after-restart.png'))
    finally: stop(lab)
    assert git_status() == before, f'make lab changed tracked files:\n{git_status()}'


def test_one_red_factor_in_jupyterlab(tmp_path, artifacts):
    "In 03_backward, each highlighted chain rule has exactly one red factor of four, as rendered by JupyterLab's MathJax 3."
    need_browser()
    course, port = tmp_path/'course', free_port()
    lab = make_lab(tmp_path, course, port)
    try:
        with chromium_page() as page:
            page.goto(f'http://127.0.0.1:{port}/lab/tree/03_backward.ipynb?token={TOKEN}')
            page.wait_for_selector('.jp-Notebook mjx-container', timeout=60_000)
            deadline = time.time() + 30
            while time.time() < deadline and len(page.evaluate(RED_FACTORS)) < 4: time.sleep(0.5)
            found = page.evaluate(RED_FACTORS)
            assert page.evaluate(SCROLL_TO_RED); page.wait_for_timeout(300)
            page.screenshot(path=str(artifacts/'lab-red-factor.png'))
    finally: stop(lab)
    assert found == [{'fracs': 4, 'red': 1, 'any': True}] * 4, found
