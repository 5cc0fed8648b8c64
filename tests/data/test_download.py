"""Public datasets download once, checked against their pinned SHA-256, from a local
HTTP server on 127.0.0.1 serving ../shared/data (this machine reaches no other address)."""
import functools
import http.server
import threading

import numpy as np
import pytest

from tfmodels import data
from tfmodels.data import download
from tfmodels.errors import DataError


@pytest.fixture(scope="module")
def server(data_dir):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(data_dir))
    handler.log_message = lambda *a: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_a_dataset_downloads_once_into_the_cache_and_loads(server, tmp_path, monkeypatch, data_dir):
    monkeypatch.setenv("TFMODELS_DATA_URL", server)
    cache = tmp_path / "cache"
    with pytest.raises(DataError, match="data folder not found"):  # a named folder must exist
        download.fetch("usps", cache)
    cache.mkdir()
    splits = data.load_splits("usps", cache)
    assert (cache / "usps" / "usps.h5").read_bytes() == (data_dir / "usps" / "usps.h5").read_bytes()
    assert len(splits.test[0]) == 2007
    monkeypatch.setenv("TFMODELS_DATA_URL", "http://127.0.0.1:9")  # nothing listens: the cache answers
    assert download.fetch("usps", cache) == cache / "usps"


def test_every_file_of_a_graph_dataset_downloads_with_its_checksum(server, tmp_path, monkeypatch):
    monkeypatch.setenv("TFMODELS_DATA_URL", server)
    for name, count in (("cora", 8), ("mutag", 4)):
        folder = download.fetch(name, tmp_path)
        assert len(list(folder.iterdir())) == count
    from tfmodels.data.graphs import load_planetoid

    assert load_planetoid("cora", tmp_path).graph.num_nodes == 2708


def test_a_checksum_mismatch_is_a_clear_error_and_caches_nothing(server, tmp_path, monkeypatch):
    monkeypatch.setenv("TFMODELS_DATA_URL", server)
    bad = download.RemoteFile("usps/usps.h5", "", "0" * 64)
    monkeypatch.setitem(download.FILES, "usps", (bad,))
    with pytest.raises(DataError, match="checksum mismatch.*nothing was saved"):
        download.fetch("usps", tmp_path)
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]


def test_offline_with_an_empty_cache_says_which_files_to_put_where(tmp_path, monkeypatch):
    monkeypatch.setenv("TFMODELS_DATA_URL", "http://127.0.0.1:9")
    with pytest.raises(DataError) as e:
        data.load_splits("mnist-test", tmp_path)
    message = str(e.value)
    assert "cannot download mnist-test" in message
    assert "t10k-images-idx3-ubyte.gz" in message and str(tmp_path / "mnist") in message
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]


def test_a_local_copy_wins_without_a_download(tmp_path, monkeypatch, data_dir):
    monkeypatch.setenv("TFMODELS_DATA_URL", "http://127.0.0.1:9")
    x, y = data.load_splits("mnist-test", data_dir).test
    assert x.shape[1:] == (28, 28, 1) and np.unique(y).size == 10
