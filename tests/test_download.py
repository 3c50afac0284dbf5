"""cnnbp.data downloads, against an HTTP server on 127.0.0.1 (never the internet).

The server serves a folder of mirrors: ``good/`` (valid files), ``bad/``
(corrupted copies), ``html/`` (an error page for every name), ``short/`` (a
body shorter than its Content-Length); anything missing is a 404. Every test
passes its mirrors explicitly, and the datasets' real mirrors are replaced by
a dead local address, so nothing here can reach an outside host.
"""

import dataclasses
import functools
import hashlib
import http.server
import shutil
import socket
import threading
from pathlib import Path

import numpy as np
import pytest

from cnnbp import data
from cnnbp.data.datasets import DATASETS, MNIST, OFFICIAL_FILES
from cnnbp.data.idx import gzip_bytes, idx_bytes, read_idx

SHARED_MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"
TEST_FILES = OFFICIAL_FILES["test"]


def free_port() -> int:
    """A port nothing listens on (connections to it are refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    """No proxies, and the datasets' own mirrors point at a refused local port."""
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "*")
    dead = (f"http://127.0.0.1:{free_port()}/",)
    for name in ("mnist", "fashion-mnist"):
        monkeypatch.setitem(DATASETS, name, dataclasses.replace(DATASETS[name], mirrors=dead))


class Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output clean
        pass

    def do_GET(self):
        if self.path.startswith("/html/"):
            body = b"<html><body>Access Denied</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif self.path.startswith("/short/"):
            body = (Path(self.directory) / "good" / self.path[len("/short/"):]).read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.close_connection = True
        else:
            super().do_GET()


@pytest.fixture
def server(tmp_path):
    """Serve tmp_path/www on a random free port; yields (base URL, www folder)."""
    www = tmp_path / "www"
    www.mkdir()
    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Handler, directory=str(www)))
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", www
    httpd.shutdown()
    httpd.server_close()
    thread.join()


@pytest.fixture
def synthetic(server):
    """A tiny synthetic MNIST test split on the server, and checksums for it.

    ``good/`` holds the files; ``bad/`` holds copies with one pixel changed
    (valid gzip and IDX, wrong checksum).
    """
    base, www = server
    rng = np.random.default_rng(0)
    arrays = (rng.integers(0, 256, size=(7, 28, 28), dtype=np.uint8),
              np.arange(7, dtype=np.uint8))
    checksums = {}
    for name, array in zip(TEST_FILES, arrays):
        payload = idx_bytes(array)
        (www / "good").mkdir(exist_ok=True)
        (www / "good" / name).write_bytes(gzip_bytes(payload))
        checksums[name] = data.Checksum(payload_sha256=hashlib.sha256(payload).hexdigest())
        bad = bytearray(payload)
        bad[-1] ^= 1
        (www / "bad").mkdir(exist_ok=True)
        (www / "bad" / name).write_bytes(gzip_bytes(bytes(bad)))
    return base, arrays, checksums


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def load_test(tmp_path, mirrors, checksums, timeout=5.0):
    """Load the MNIST test split into tmp_path/d, downloading from ``mirrors``."""
    return data.load_mnist("test", tmp_path / "d", mirrors=mirrors, checksums=checksums,
                           progress=False, timeout=timeout)


# --- success ---------------------------------------------------------------------

def test_missing_files_are_downloaded_verified_and_kept(tmp_path, synthetic):
    base, (images, labels), checksums = synthetic
    got_images, got_labels = load_test(tmp_path, [f"{base}/good/"], checksums)
    np.testing.assert_array_equal(got_images, images)
    np.testing.assert_array_equal(got_labels, labels)
    assert files_in(tmp_path / "d" / "mnist") == sorted(TEST_FILES)  # no .part files left
    # second load uses the local copies: no mirror needed
    again, _ = data.load_mnist("test", tmp_path / "d", download=False)
    np.testing.assert_array_equal(again, images)


def test_download_goes_into_env_data_dir(tmp_path, synthetic, monkeypatch):
    base, _, checksums = synthetic
    monkeypatch.setenv("CNNBP_DATA_DIR", str(tmp_path / "env"))
    data.load_mnist("test", mirrors=[f"{base}/good"], checksums=checksums, progress=False)
    assert files_in(tmp_path / "env" / "mnist") == sorted(TEST_FILES)


def test_only_missing_files_are_downloaded(tmp_path, synthetic):
    base, (images, labels), checksums = synthetic
    data.write_idx(tmp_path / "d" / "mnist" / "t10k-images-idx3-ubyte", images)  # raw copy present
    load_test(tmp_path, [f"{base}/good/"], checksums)
    assert files_in(tmp_path / "d" / "mnist") == ["t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte.gz"]


def test_progress_false_prints_nothing(tmp_path, synthetic, capsys):
    base, _, checksums = synthetic
    load_test(tmp_path, [f"{base}/good/"], checksums)
    assert capsys.readouterr() == ("", "")


def test_progress_bar_goes_to_stderr_only(tmp_path, synthetic, capsys):
    base, _, checksums = synthetic
    data.load_mnist("test", tmp_path / "d", mirrors=[f"{base}/good/"], checksums=checksums,
                    progress=True)
    out, err = capsys.readouterr()
    assert out == "" and "t10k-images-idx3-ubyte.gz" in err


# --- falling through to the next mirror --------------------------------------------

def test_refused_connection_falls_through_to_next_mirror(tmp_path, synthetic):
    base, (images, _), checksums = synthetic
    got, _ = load_test(tmp_path, [f"http://127.0.0.1:{free_port()}/", f"{base}/good/"], checksums)
    np.testing.assert_array_equal(got, images)


def test_http_404_falls_through_to_next_mirror(tmp_path, synthetic):
    base, (images, _), checksums = synthetic
    got, _ = load_test(tmp_path, [f"{base}/nothing-here/", f"{base}/good/"], checksums)
    np.testing.assert_array_equal(got, images)


def test_corrupted_copy_is_rejected_and_next_mirror_used(tmp_path, synthetic):
    base, (images, _), checksums = synthetic
    got, _ = load_test(tmp_path, [f"{base}/bad/", f"{base}/good/"], checksums)
    np.testing.assert_array_equal(got, images)


def test_corrupted_copy_is_never_kept(tmp_path, synthetic):
    base, _, checksums = synthetic
    with pytest.raises(data.DownloadError, match="checksum mismatch"):
        load_test(tmp_path, [f"{base}/bad/"], checksums)
    assert files_in(tmp_path / "d" / "mnist") == []


def test_error_page_served_as_200_is_rejected(tmp_path, synthetic):
    base, _, checksums = synthetic
    with pytest.raises(data.DownloadError, match="checksum mismatch"):
        load_test(tmp_path, [f"{base}/html/"], checksums)
    assert files_in(tmp_path / "d" / "mnist") == []


def test_short_transfer_is_rejected(tmp_path, synthetic):
    base, _, checksums = synthetic
    with pytest.raises(data.DownloadError, match=r"short/t10k-images-idx3-ubyte.gz \(short transfer"):
        load_test(tmp_path, [f"{base}/short/"], checksums)
    assert files_in(tmp_path / "d" / "mnist") == []


def test_unresponsive_server_times_out(tmp_path, synthetic):
    base, (images, _), checksums = synthetic
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        port = silent.getsockname()[1]
        got, _ = data.load_mnist("test", tmp_path / "d", checksums=checksums, progress=False,
                                 mirrors=[f"http://127.0.0.1:{port}/", f"{base}/good/"],
                                 timeout=0.3)
    np.testing.assert_array_equal(got, images)


def test_without_a_checksum_the_idx_structure_is_still_checked(tmp_path, synthetic):
    base, _, _ = synthetic
    with pytest.raises(data.DownloadError, match="not an IDX file"):
        load_test(tmp_path, [f"{base}/html/"], {name: None for name in TEST_FILES})


# --- all mirrors failing --------------------------------------------------------------

def test_all_mirrors_failing_lists_them_and_says_how_to_use_local_files(tmp_path, synthetic):
    base, _, checksums = synthetic
    dead = f"http://127.0.0.1:{free_port()}/"
    with pytest.raises(data.DownloadError) as e:
        load_test(tmp_path, [dead, f"{base}/missing/", f"{base}/bad/"], checksums)
    msg = str(e.value)
    assert "\n" not in msg  # one line, for the CLI
    assert f"{dead}t10k-images-idx3-ubyte.gz (cannot connect" in msg
    assert f"{base}/missing/t10k-images-idx3-ubyte.gz (HTTP 404" in msg
    assert f"{base}/bad/t10k-images-idx3-ubyte.gz (checksum mismatch" in msg
    assert "--data-dir" in msg and "CNNBP_DATA_DIR" in msg
    assert "t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz" in msg
    assert str(tmp_path / "d" / "mnist") in msg
    assert files_in(tmp_path / "d" / "mnist") == []


def test_default_mirrors_unreachable_gives_the_local_files_hint(tmp_path):
    # the autouse fixture made the real mirrors a refused local port
    with pytest.raises(data.DownloadError, match="--data-dir"):
        data.load_fashion_mnist("train", tmp_path, progress=False)


def test_download_false_never_contacts_a_mirror(tmp_path, server):
    base, www = server
    with pytest.raises(data.DataError, match="downloading is off"):
        data.load_mnist("test", tmp_path, download=False, mirrors=[f"{base}/good/"])
    assert not (tmp_path / "mnist").exists()


# --- the real checksums, on real MNIST label files -------------------------------------

needs_shared_mnist = pytest.mark.skipif(
    not (SHARED_MNIST / "t10k-labels-idx1-ubyte.gz").is_file(),
    reason=f"real MNIST not found in {SHARED_MNIST}",
)
LABEL_FILES = ["train-labels-idx1-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]


@needs_shared_mnist
@pytest.mark.parametrize("name", LABEL_FILES)
def test_real_mnist_labels_verify_by_payload_sha256(tmp_path, server, name):
    base, www = server
    (www / "mnist").mkdir()
    shutil.copy(SHARED_MNIST / name, www / "mnist" / name)
    path = data.fetch(name, tmp_path / "mnist", [f"{base}/mnist/"], MNIST.checksums[name],
                      progress=False)
    np.testing.assert_array_equal(read_idx(path), read_idx(SHARED_MNIST / name))


@needs_shared_mnist
@pytest.mark.parametrize("name", LABEL_FILES)
def test_real_mnist_labels_with_one_label_changed_are_rejected(tmp_path, server, name):
    base, www = server
    labels = read_idx(SHARED_MNIST / name)
    labels[123] = (labels[123] + 1) % 10
    (www / "mnist").mkdir()
    (www / "mnist" / name).write_bytes(gzip_bytes(idx_bytes(labels)))
    with pytest.raises(data.DownloadError, match=f"expected payload SHA-256 {MNIST.checksums[name].payload_sha256}"):
        data.fetch(name, tmp_path / "mnist", [f"{base}/mnist/"], MNIST.checksums[name],
                   progress=False)
    assert files_in(tmp_path / "mnist") == []


def test_official_gz_md5_is_accepted(tmp_path, server):
    base, www = server
    blob = gzip_bytes(idx_bytes(np.arange(3, dtype=np.uint8)))
    (www / "f").mkdir()
    (www / "f" / "x.gz").write_bytes(blob)
    checksum = data.Checksum(payload_sha256="0" * 64, gz_md5=hashlib.md5(blob).hexdigest())
    path = data.fetch("x.gz", tmp_path, [f"{base}/f/"], checksum, progress=False)
    assert path.read_bytes() == blob
