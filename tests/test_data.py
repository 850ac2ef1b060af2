"""Downloads of the full MNIST file, against a real HTTP server on 127.0.0.1.

The expected size and md5 are patched to those of a small generated pickle with the same
structure as mnist.pkl.gz, so every path through fetch/verify/unpickle runs for real.
"""
import gzip, hashlib, os, pickle, warnings

import numpy as np
import pytest
import torch

from lesson08 import data


def make_pkl(n=(20, 5, 5)):
    "A gzipped pickle shaped like mnist.pkl.gz: three (x float32 (n,784), y int64 (n,)) pairs."
    rng = np.random.default_rng(0)
    splits = tuple((rng.random((k, 784), dtype=np.float32), rng.integers(0, 10, k)) for k in n)
    return gzip.compress(pickle.dumps(splits, protocol=2), mtime=0), splits


@pytest.fixture
def good(monkeypatch):
    body, splits = make_pkl()
    monkeypatch.setattr(data, 'FULL_SIZE', len(body))
    monkeypatch.setattr(data, 'FULL_MD5', hashlib.md5(body).hexdigest())
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
    assert data.cache_dir() == tmp_path/'cache'
    path = data.fetch_full(urls=[http_server.url('/m')], progress=False)
    assert path == tmp_path/'cache'/'mnist.pkl.gz' and path.read_bytes() == body


def test_404_then_second_mirror(http_server, tmp_path, good):
    body, _ = good
    http_server.routes['/second/mnist.pkl.gz'] = (200, body, {})
    urls = [http_server.url('/first/mnist.pkl.gz'), http_server.url('/second/mnist.pkl.gz')]
    path = data.fetch_full(tmp_path/'mnist.pkl.gz', urls, progress=False)
    assert path.read_bytes() == body
    assert http_server.hits == ['/first/mnist.pkl.gz', '/second/mnist.pkl.gz']


def test_truncated_file(http_server, tmp_path, good):
    body, _ = good
    http_server.routes['/m'] = (200, body[:-100], {})
    with pytest.raises(data.DataError, match=r'bytes, expected .*truncated'):
        data.fetch_full(tmp_path/'mnist.pkl.gz', [http_server.url('/m')], progress=False)
    assert list(tmp_path.iterdir()) == []


def test_connection_cut_short(http_server, tmp_path, good):
    "The server promises the full length but sends less: http.client raises, and nothing is left."
    body, _ = good
    http_server.routes['/m'] = (200, body[:1000], {'Content-Length': str(len(body))})
    with pytest.raises(data.DataError, match='could not get'):
        data.fetch_full(tmp_path/'mnist.pkl.gz', [http_server.url('/m')], progress=False)
    assert list(tmp_path.iterdir()) == []


def test_wrong_checksum(http_server, tmp_path, good):
    body, _ = good
    bad = bytearray(body); bad[len(bad)//2] ^= 0xFF
    http_server.routes['/m'] = (200, bytes(bad), {})
    with pytest.raises(data.DataError, match='has md5'):
        data.fetch_full(tmp_path/'mnist.pkl.gz', [http_server.url('/m')], progress=False)
    assert list(tmp_path.iterdir()) == []


def test_oversized_download_is_cut_off(http_server, tmp_path, good):
    body, _ = good
    http_server.routes['/m'] = (200, body + b'x'*200_000, {})
    with pytest.raises(data.DataError, match='more than the expected'):
        data.fetch_full(tmp_path/'mnist.pkl.gz', [http_server.url('/m')], progress=False)
    assert list(tmp_path.iterdir()) == []


def test_corrupt_cache_is_replaced(http_server, tmp_path, good, capsys):
    body, _ = good
    dest = tmp_path/'mnist.pkl.gz'
    dest.write_bytes(b'garbage from an old, interrupted download')
    http_server.routes['/m'] = (200, body, {})
    data.get_mnist('full', path=dest, urls=[http_server.url('/m')], progress=False)
    assert dest.read_bytes() == body
    assert 'failed verification' in capsys.readouterr().out


def test_code_running_pickle_is_refused(http_server, tmp_path, monkeypatch):
    "Even a file whose checksum matches is loaded by an unpickler that only builds numpy arrays."
    marker = tmp_path/'pwned'

    class Payload:
        def __reduce__(self): return (os.system, (f'touch {marker}',))

    body = gzip.compress(pickle.dumps(((Payload(), None), None, None), protocol=2), mtime=0)
    monkeypatch.setattr(data, 'FULL_SIZE', len(body))
    monkeypatch.setattr(data, 'FULL_MD5', hashlib.md5(body).hexdigest())
    http_server.routes['/m'] = (200, body, {})
    with pytest.raises(pickle.UnpicklingError, match=r'refused to load (posix|os|nt)\.system'):
        data.get_mnist('full', path=tmp_path/'mnist.pkl.gz', urls=[http_server.url('/m')], progress=False)
    assert not marker.exists(), 'the payload ran'


def test_wrong_structure_is_a_clear_error(tmp_path, monkeypatch):
    body = gzip.compress(pickle.dumps([np.zeros(3)], protocol=4), mtime=0)
    p = tmp_path/'mnist.pkl.gz'; p.write_bytes(body)
    with pytest.raises(data.DataError, match='three'):
        data.load_full(p)


def test_offline_fallback(tmp_path):
    dead = ['http://127.0.0.1:9/mnist.pkl.gz']   # the discard port: nothing listens there
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        xt, yt, xv, yv = data.get_mnist('auto', path=tmp_path/'mnist.pkl.gz', urls=dead, progress=False)
    assert (xt.shape, xv.shape) == ((4000, 784), (1000, 784))
    assert len(w) == 1 and issubclass(w[0].category, data.MNISTFallbackWarning)
    with pytest.raises(data.DataError) as e:
        data.get_mnist('full', path=tmp_path/'mnist.pkl.gz', urls=dead, progress=False)
    assert '127.0.0.1:9' in str(e.value) and str(tmp_path/'mnist.pkl.gz') in str(e.value)
    assert list(tmp_path.iterdir()) == []
