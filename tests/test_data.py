"""Downloads of the full MNIST file, against a real HTTP server on 127.0.0.1.

The expected size and md5 are patched to those of a small generated pickle with the same
structure as mnist.pkl.gz, so every path through fetch/verify/unpickle runs for real.
The machinery lives in lesson08.download (appendix A1); lesson08.data re-imports it and owns `get_mnist`.
Patch a name where the code that uses it looks it up: the defaults in `download`, what `get_mnist` calls in `data`.
"""
import gzip, hashlib, http.server, os, pickle, threading, time

import numpy as np
import pytest
import torch

from lesson08 import data, download as dl


def make_pkl(n=(20, 5, 5)):
    "A gzipped pickle shaped like mnist.pkl.gz: three (x float32 (n,784), y int64 (n,)) pairs."
    rng = np.random.default_rng(0)
    splits = tuple((rng.random((k, 784), dtype=np.float32), rng.integers(0, 10, k)) for k in n)
    return gzip.compress(pickle.dumps(splits, protocol=2), mtime=0), splits


@pytest.fixture
def good(monkeypatch):
    body, splits = make_pkl()
    monkeypatch.setattr(dl, 'FULL_SIZE', len(body))
    monkeypatch.setattr(dl, 'FULL_MD5', hashlib.md5(body).hexdigest())
    return body, splits


def no_partials(folder):
    return [p.name for p in folder.iterdir() if p.suffix == '.part']


def test_good_download(http_server, tmp_path, good):
    body, splits = good
    http_server.routes['/mnist.pkl.gz'] = (200, body, {})
    dest = tmp_path/'mnist.pkl.gz'
    xt, yt, xv, yv = data.get_mnist('full', path=dest, urls=[http_server.url('/mnist.pkl.gz')], progress=False)
    assert dest.read_bytes() == body
    assert xt.shape == (20, 784) and xt.dtype == torch.float32 and yt.dtype == torch.int64
    assert np.array_equal(xv.numpy(), splits[1][0]) and np.array_equal(yv.numpy(), splits[1][1])
    # A second call uses the cache and makes no request.
    hits = len(http_server.hits)
    data.get_mnist('full', path=dest, urls=[http_server.url('/mnist.pkl.gz')], progress=False)
    assert len(http_server.hits) == hits


def test_cache_dir_from_env(monkeypatch, tmp_path, http_server, good):
    body, _ = good
    http_server.routes['/m'] = (200, body, {})
    monkeypatch.setenv('LESSON08_DATA', str(tmp_path/'cache'))
    assert dl.cache_dir() == tmp_path/'cache'
    path = dl.fetch_full(urls=[http_server.url('/m')], progress=False)
    assert path == tmp_path/'cache'/'mnist.pkl.gz' and path.read_bytes() == body


def test_404_then_second_mirror(http_server, tmp_path, good):
    body, _ = good
    http_server.routes['/second/mnist.pkl.gz'] = (200, body, {})
    urls = [http_server.url('/first/mnist.pkl.gz'), http_server.url('/second/mnist.pkl.gz')]
    path = dl.fetch_full(tmp_path/'mnist.pkl.gz', urls, progress=False)
    assert path.read_bytes() == body
    assert http_server.hits == ['/first/mnist.pkl.gz', '/second/mnist.pkl.gz']


def test_truncated_file(http_server, tmp_path, good):
    body, _ = good
    http_server.routes['/m'] = (200, body[:-100], {})
    with pytest.raises(data.DataError, match=r'bytes, expected .*truncated'):
        dl.fetch_full(tmp_path/'mnist.pkl.gz', [http_server.url('/m')], progress=False)
    assert list(tmp_path.iterdir()) == []


def test_connection_cut_short(http_server, tmp_path, good):
    "The server promises the full length but sends less: http.client raises, and nothing is left."
    body, _ = good
    http_server.routes['/m'] = (200, body[:1000], {'Content-Length': str(len(body))})
    with pytest.raises(data.DataError, match='could not get'):
        dl.fetch_full(tmp_path/'mnist.pkl.gz', [http_server.url('/m')], progress=False)
    assert list(tmp_path.iterdir()) == []


def test_wrong_checksum(http_server, tmp_path, good):
    body, _ = good
    bad = bytearray(body); bad[len(bad)//2] ^= 0xFF
    http_server.routes['/m'] = (200, bytes(bad), {})
    with pytest.raises(data.DataError, match='has md5'):
        dl.fetch_full(tmp_path/'mnist.pkl.gz', [http_server.url('/m')], progress=False)
    assert list(tmp_path.iterdir()) == []


def test_oversized_download_is_cut_off(http_server, tmp_path, good):
    body, _ = good
    http_server.routes['/m'] = (200, body + b'x'*200_000, {})
    with pytest.raises(data.DataError, match='more than the expected'):
        dl.fetch_full(tmp_path/'mnist.pkl.gz', [http_server.url('/m')], progress=False)
    assert list(tmp_path.iterdir()) == []


def test_corrupt_cache_is_replaced_only_by_a_verified_download(http_server, tmp_path, good, capsys, monkeypatch):
    "A bad file in the library's own cache stays until a verified download replaces it."
    body, _ = good
    monkeypatch.setenv('LESSON08_DATA', str(tmp_path))
    dest = tmp_path/'mnist.pkl.gz'
    dest.write_bytes(b'garbage from an old, interrupted download')
    with pytest.warns(data.MNISTFallbackWarning):
        data.get_mnist('auto', urls=['http://127.0.0.1:9/m'], progress=False)      # offline: nothing to replace it with
    assert dest.read_bytes() == b'garbage from an old, interrupted download'
    http_server.routes['/m'] = (200, body, {})
    data.get_mnist('full', urls=[http_server.url('/m')], progress=False)
    assert dest.read_bytes() == body
    assert 'replaced once a verified download is ready' in capsys.readouterr().out


@pytest.mark.parametrize('content', [b'my own notes, nothing to do with MNIST\n', gzip.compress(b'recompressed by me', mtime=0)])
def test_a_file_the_user_named_is_never_touched(http_server, tmp_path, good, content):
    body, _ = good
    http_server.routes['/m'] = (200, body, {})
    mine = tmp_path/'notes.txt'
    mine.write_bytes(content)
    with pytest.warns(data.MNISTFallbackWarning, match='left untouched'):
        data.get_mnist('auto', path=mine, urls=['http://127.0.0.1:9/m'], progress=False)
    with pytest.raises(data.DataError, match='was not used, and it was left untouched'):
        data.get_mnist('full', path=mine, urls=[http_server.url('/m')], progress=False)   # even with a working mirror
    assert mine.read_bytes() == content and http_server.hits == []


def test_auto_falls_back_when_a_folder_is_in_the_way(tmp_path, monkeypatch):
    monkeypatch.setenv('LESSON08_DATA', str(tmp_path))
    (tmp_path/'mnist.pkl.gz').mkdir()                                          # a folder where the file should be
    with pytest.warns(data.MNISTFallbackWarning):
        assert data.get_mnist('auto', urls=['http://127.0.0.1:9/m'], progress=False)[0].shape == (4000, 784)


@pytest.mark.parametrize('where', ['fetch', 'load'])
def test_auto_falls_back_on_a_failure_that_is_not_a_data_error(tmp_path, monkeypatch, where):
    "Not only DataError: an OSError while fetching, or an EOFError from a file that verified but can't be read, falls back too."
    fetched = tmp_path/'mnist.pkl.gz'
    if where == 'fetch':
        def fetch_full(*a, **k): raise PermissionError(13, 'Permission denied', str(fetched))   # root can write anywhere: simulate
        monkeypatch.setattr(data, 'fetch_full', fetch_full)
        monkeypatch.setattr(data, 'load_full', lambda p: pytest.fail('load_full ran after fetch_full failed'))
        err, why = PermissionError, f"PermissionError: [Errno 13] Permission denied: '{fetched}'"
    else:
        loaded = []
        monkeypatch.setattr(data, 'fetch_full', lambda *a, **k: fetched)
        def load_full(path): loaded.append(path); raise EOFError('Compressed file ended before the end-of-stream marker was reached')
        monkeypatch.setattr(data, 'load_full', load_full)
        err, why = EOFError, 'EOFError: Compressed file ended before the end-of-stream marker was reached'
    assert not issubclass(err, data.DataError)
    with pytest.warns(data.MNISTFallbackWarning) as w:
        got = data.get_mnist('auto', progress=False)
    msg = '\n'.join(str(x.message) for x in w if issubclass(x.category, data.MNISTFallbackWarning))
    assert 'the 5,000-digit subset shipped with lesson08 is used instead' in msg and why in msg, msg
    for a, b in zip(got, data.load_subset()): assert torch.equal(a, b)                 # the shipped subset itself
    if where == 'load': assert loaded == [fetched]                                  # the failure came from reading the fetched file
    with pytest.raises(err):                                                        # 'full' never hides it
        data.get_mnist('full', progress=False)


def test_concurrent_starts_with_a_bad_cache(tmp_path):
    "Six processes start together on one bad cache file, offline: all fall back, none crashes, the file stays."
    import subprocess, sys
    (tmp_path/'mnist.pkl.gz').write_bytes(b'bad')
    code = ("import warnings; warnings.simplefilter('ignore'); from lesson08.data import get_mnist; "
            "print(get_mnist('auto', urls=['http://127.0.0.1:9/m'], progress=False)[0].shape[0])")
    procs = [subprocess.Popen([sys.executable, '-c', code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env={**os.environ, 'LESSON08_DATA': str(tmp_path)}) for _ in range(6)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * 6, [e for _, e in outs]
    assert all(o.strip().endswith('4000') for o, _ in outs)
    assert (tmp_path/'mnist.pkl.gz').read_bytes() == b'bad'


def test_downloaded_file_has_the_umask_mode(http_server, tmp_path, good):
    body, _ = good
    http_server.routes['/m'] = (200, body, {})
    old = os.umask(0o022)
    try: path = dl.fetch_full(tmp_path/'mnist.pkl.gz', [http_server.url('/m')], progress=False)
    finally: os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644          # readable by the other users of a shared cache


class Trickle(http.server.BaseHTTPRequestHandler):
    "Announces a big file, then sends one byte every 0.2 s."
    def do_GET(self):
        self.send_response(200); self.send_header('Content-Length', '1000000'); self.end_headers()
        try:
            for _ in range(300): self.wfile.write(b'x'); self.wfile.flush(); time.sleep(0.2)
        except OSError: pass
    def log_message(self, *a): pass


@pytest.fixture
def trickle():
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Trickle)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f'http://127.0.0.1:{srv.server_address[1]}/m'
    srv.shutdown(); srv.server_close()


def test_overall_deadline(trickle, tmp_path, monkeypatch):
    monkeypatch.setattr(dl, 'FULL_SIZE', 1_000_000)
    t = time.time()
    with pytest.raises(data.DataError, match=r'too slow: .* after the 1 s deadline \(pass deadline='):
        dl.fetch_full(tmp_path/'mnist.pkl.gz', [trickle], progress=False, deadline=1)
    assert time.time() - t < 5 and no_partials(tmp_path) == []
    with pytest.warns(data.MNISTFallbackWarning, match='deadline'):
        data.get_mnist('auto', path=tmp_path/'mnist.pkl.gz', urls=[trickle], progress=False, deadline=1)
    assert dl.DEADLINE == 600 and data.DEADLINE is dl.DEADLINE


def test_killed_downloads_leave_parts_that_the_next_run_cleans(trickle, tmp_path, http_server, good):
    "SIGKILL and SIGTERM leave a .part file; the next download removes those, and only those."
    import signal, subprocess, sys
    code = f"from lesson08 import download; download.FULL_SIZE = 1_000_000; download.fetch_full({str(tmp_path/'mnist.pkl.gz')!r}, [{trickle!r}], progress=False)"
    for sig in (signal.SIGKILL, signal.SIGTERM):
        p = subprocess.Popen([sys.executable, '-c', code])
        deadline = time.time() + 60
        while time.time() < deadline and not any(f'.{p.pid}.' in n for n in no_partials(tmp_path)): time.sleep(0.1)
        p.send_signal(sig); p.wait()
        # the killed download's leftover is there; the one before it was cleaned when this download started
        assert [n.split('.')[3] for n in no_partials(tmp_path)] == [str(p.pid)], (sig, no_partials(tmp_path))
    live = tmp_path/f'mnist.pkl.gz.{os.getpid()}.abc123.part'; live.write_bytes(b'a download still running')
    other = tmp_path/'mnist.pkl.gz.notes.part'; other.write_bytes(b'not ours')
    body, _ = good
    http_server.routes['/m'] = (200, body, {})
    dl.fetch_full(tmp_path/'mnist.pkl.gz', [http_server.url('/m')], progress=False)
    assert sorted(no_partials(tmp_path)) == sorted([live.name, other.name])


def test_url_mistakes(http_server, tmp_path, good):
    "A malformed URL is reported and the next mirror tried; a single URL string is one mirror, not a list of letters."
    body, _ = good
    http_server.routes['/m'] = (200, body, {})
    path = dl.fetch_full(tmp_path/'a.pkl.gz', ['not a url', 'ftp://x/y', http_server.url('/m')], progress=False)
    assert path.read_bytes() == body
    assert dl.fetch_full(tmp_path/'b.pkl.gz', http_server.url('/m'), progress=False).read_bytes() == body
    with pytest.raises(data.DataError, match="'not a url' is not an http"):
        dl.fetch_full(tmp_path/'c.pkl.gz', 'not a url', progress=False)


def test_code_running_pickle_is_refused(http_server, tmp_path, monkeypatch):
    "Even a file whose checksum matches is loaded by an unpickler that only builds numpy arrays."
    marker = tmp_path/'pwned'

    class Payload:     # os.mkdir: observable on every OS, and no shell program needed
        def __reduce__(self): return (os.mkdir, (str(marker),))

    raw = pickle.dumps(((Payload(), None), None, None), protocol=2)
    pickle.loads(raw); assert marker.is_dir(), 'the payload does not run under plain pickle, so this test proves nothing'
    marker.rmdir()
    body = gzip.compress(raw, mtime=0)
    monkeypatch.setattr(dl, 'FULL_SIZE', len(body))
    monkeypatch.setattr(dl, 'FULL_MD5', hashlib.md5(body).hexdigest())
    http_server.routes['/m'] = (200, body, {})
    with pytest.raises(pickle.UnpicklingError, match=r'refused to load (posix|os|nt)\.mkdir'):
        data.get_mnist('full', path=tmp_path/'mnist.pkl.gz', urls=[http_server.url('/m')], progress=False)
    assert (tmp_path/'mnist.pkl.gz').read_bytes() == body, 'the file was not downloaded and verified, so the unpickler never ran'
    assert not marker.exists(), 'the payload ran'


def test_data_still_exports_what_moved_to_download():
    "Old imports (`from lesson08.data import fetch_full, DataError, ...`) get the very objects lesson08.download defines."
    assert dl.__all__ and set(dl.__all__) <= set(data.__all__)
    for name in dl.__all__: assert getattr(data, name) is getattr(dl, name), name
    assert data.get_mnist.__module__ == 'lesson08.data' and dl.fetch_full.__module__ == 'lesson08.download'


def test_wrong_structure_is_a_clear_error(tmp_path, monkeypatch):
    body = gzip.compress(pickle.dumps([np.zeros(3)], protocol=4), mtime=0)
    p = tmp_path/'mnist.pkl.gz'; p.write_bytes(body)
    with pytest.raises(data.DataError, match='three'):
        dl.load_full(p)
