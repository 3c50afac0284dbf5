"""cnnbp.data: the IDX format, the data directory, loading, and the shipped sample."""

from pathlib import Path

import numpy as np
import pytest

from cnnbp import data
from cnnbp.data.idx import IDX_IMAGES, IDX_LABELS, gzip_bytes, idx_bytes, read_idx, write_idx
from cnnbp.data.sample import SAMPLE_PER_CLASS, balanced_subset

SHARED_MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"
# Per-class counts of the full MNIST training labels, from shared/data/mnist/README.md.
MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]

needs_shared_mnist = pytest.mark.skipif(
    not (SHARED_MNIST / "train-labels-idx1-ubyte.gz").is_file(),
    reason=f"real MNIST not found in {SHARED_MNIST}",
)


def images_and_labels(n=6, rows=28, cols=28, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, rows, cols), dtype=np.uint8)
    labels = (np.arange(n) % 10).astype(np.uint8)
    return images, labels


def make_dataset_dir(root: Path, folder="mnist", split="train", n=6, compress=True, seed=0):
    """Write a tiny synthetic split with the official file names under root/folder/."""
    images, labels = images_and_labels(n, seed=seed)
    names = data.datasets.OFFICIAL_FILES[split]
    for name, array in zip(names, (images, labels)):
        path = root / folder / (name if compress else name[:-3])
        write_idx(path, array, compress=compress)
    return images, labels


# --- IDX: round trips ---------------------------------------------------------

@pytest.mark.parametrize("compress", [False, True], ids=["raw", "gzip"])
@pytest.mark.parametrize("dtype", ["u1", "i1", "i2", "i4", "f4", "f8"])
def test_write_then_read_round_trips(tmp_path, compress, dtype):
    array = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    if dtype == "u1":
        array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    path = write_idx(tmp_path / "a.idx", array, compress=compress)
    back = read_idx(path)
    assert back.dtype == array.dtype and back.dtype.isnative
    np.testing.assert_array_equal(back, array)
    assert back.flags.writeable


def test_gzip_is_detected_by_content_not_name(tmp_path):
    images, _ = images_and_labels(3)
    gz_named_raw = write_idx(tmp_path / "raw-but-named.gz", images, compress=False)
    raw_named_gz = write_idx(tmp_path / "gzip-but-named.idx", images, compress=True)
    assert gz_named_raw.read_bytes()[:2] != b"\x1f\x8b"
    assert raw_named_gz.read_bytes()[:2] == b"\x1f\x8b"
    np.testing.assert_array_equal(read_idx(gz_named_raw), images)
    np.testing.assert_array_equal(read_idx(raw_named_gz), images)


def test_mnist_header_layout(tmp_path):
    images, labels = images_and_labels(5)
    assert idx_bytes(images)[:16] == bytes.fromhex("00000803 00000005 0000001c 0000001c")
    assert idx_bytes(labels)[:8] == bytes.fromhex("00000801 00000005")


def test_gzip_output_is_deterministic():
    images, _ = images_and_labels(4)
    assert gzip_bytes(idx_bytes(images)) == gzip_bytes(idx_bytes(images))


def test_write_is_atomic_and_leaves_no_temporary_files(tmp_path):
    images, labels = images_and_labels(4)
    write_idx(tmp_path / "x.gz", images)
    write_idx(tmp_path / "x.gz", labels)  # replaces
    assert [p.name for p in tmp_path.iterdir()] == ["x.gz"]
    np.testing.assert_array_equal(read_idx(tmp_path / "x.gz"), labels)


def test_write_rejects_unsupported_dtype(tmp_path):
    with pytest.raises(TypeError, match="uint64"):
        write_idx(tmp_path / "x", np.zeros(3, dtype=np.uint64))


def test_read_checks_expected_magic_and_succeeds_when_it_matches(tmp_path):
    images, labels = images_and_labels(3)
    assert read_idx(write_idx(tmp_path / "i", images), IDX_IMAGES).shape == (3, 28, 28)
    assert read_idx(write_idx(tmp_path / "l", labels), IDX_LABELS).shape == (3,)


# --- IDX: damaged files ---------------------------------------------------------

def test_wrong_magic_names_file_expected_and_found(tmp_path):
    _, labels = images_and_labels(3)
    path = write_idx(tmp_path / "labels.gz", labels)
    with pytest.raises(data.DataError) as e:
        read_idx(path, expect_magic=IDX_IMAGES)
    msg = str(e.value)
    assert str(path) in msg and "0x00000803" in msg and "0x00000801" in msg


def test_not_idx_at_all(tmp_path):
    path = tmp_path / "page.html"
    path.write_bytes(b"<html>Access denied</html>")
    with pytest.raises(data.DataError, match="not an IDX file"):
        read_idx(path)


@pytest.mark.parametrize("compress", [False, True], ids=["raw", "gzip"])
@pytest.mark.parametrize("keep", [0, 3, 10, 16 + 28 * 28 * 2 + 5], ids=["empty", "in-magic", "in-dims", "in-payload"])
def test_truncated_file_is_rejected(tmp_path, compress, keep):
    images, _ = images_and_labels(3)
    raw = idx_bytes(images)[:keep]
    path = tmp_path / "images"
    path.write_bytes(gzip_bytes(raw) if compress else raw)
    with pytest.raises(data.DataError, match="truncated") as e:
        read_idx(path)
    assert str(path) in str(e.value)


def test_truncated_payload_reports_expected_and_found_sizes(tmp_path):
    images, _ = images_and_labels(3)
    path = tmp_path / "images"
    path.write_bytes(idx_bytes(images)[:-10])
    with pytest.raises(data.DataError, match=rf"{3 * 28 * 28} payload bytes\), found {3 * 28 * 28 - 10}"):
        read_idx(path)


@pytest.mark.parametrize("compress", [False, True], ids=["raw", "gzip"])
def test_trailing_bytes_are_a_size_mismatch(tmp_path, compress):
    _, labels = images_and_labels(4)
    raw = idx_bytes(labels) + b"\0\0\0"
    path = tmp_path / "labels"
    path.write_bytes(gzip_bytes(raw) if compress else raw)
    with pytest.raises(data.DataError, match=r"size mismatch.*4 payload bytes\), found 7 bytes \(3 extra\)"):
        read_idx(path)


def test_header_claiming_huge_payload_fails_without_allocating(tmp_path):
    path = tmp_path / "huge.gz"
    path.write_bytes(gzip_bytes(bytes.fromhex("00000803 ffffffff ffffffff 0000001c")))
    with pytest.raises(data.DataError, match="truncated"):
        read_idx(path)


def test_truncated_gzip_stream_is_rejected(tmp_path):
    images, _ = images_and_labels(20)
    blob = gzip_bytes(idx_bytes(images))
    path = tmp_path / "cut.gz"
    path.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(data.DataError) as e:
        read_idx(path)
    assert str(path) in str(e.value)


def test_corrupted_gzip_crc_is_rejected(tmp_path):
    _, labels = images_and_labels(10)
    blob = bytearray(gzip_bytes(idx_bytes(labels)))
    blob[-8] ^= 0xFF  # the CRC-32 in the gzip trailer
    path = tmp_path / "bad-crc.gz"
    path.write_bytes(bytes(blob))
    with pytest.raises(data.DataError, match="corrupted gzip"):
        read_idx(path)


def test_garbage_after_gzip_magic_is_rejected(tmp_path):
    path = tmp_path / "junk.gz"
    path.write_bytes(b"\x1f\x8b" + b"not really deflate data" * 4)
    with pytest.raises(data.DataError, match="corrupted gzip"):
        read_idx(path)


def test_missing_file(tmp_path):
    with pytest.raises(data.DataError, match="no such file"):
        read_idx(tmp_path / "nope.gz")


# --- the data directory ---------------------------------------------------------

@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    monkeypatch.delenv("CNNBP_DATA_DIR", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return monkeypatch


def test_data_dir_argument_wins_over_env(clean_env, tmp_path):
    clean_env.setenv("CNNBP_DATA_DIR", str(tmp_path / "env"))
    assert data.resolve_data_dir(tmp_path / "arg") == tmp_path / "arg"


def test_env_wins_over_cache(clean_env, tmp_path):
    clean_env.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    clean_env.setenv("CNNBP_DATA_DIR", str(tmp_path / "env"))
    assert data.resolve_data_dir() == tmp_path / "env"


def test_cache_dir_follows_xdg(clean_env, tmp_path):
    clean_env.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert data.resolve_data_dir() == tmp_path / "xdg" / "cnnbp"


def test_cache_dir_defaults_to_home_cache(clean_env, tmp_path):
    clean_env.setenv("CNNBP_DATA_DIR", "")  # empty counts as unset
    assert data.resolve_data_dir() == tmp_path / "home" / ".cache" / "cnnbp"
    assert data.default_data_dir() == tmp_path / "home" / ".cache" / "cnnbp"


def test_load_reads_from_env_data_dir(clean_env, tmp_path):
    images, labels = make_dataset_dir(tmp_path / "env", "fashion-mnist", "test")
    clean_env.setenv("CNNBP_DATA_DIR", str(tmp_path / "env"))
    got_images, got_labels = data.load_fashion_mnist("test", download=False)
    np.testing.assert_array_equal(got_images, images)
    np.testing.assert_array_equal(got_labels, labels)


def test_load_accepts_raw_files_without_gz(tmp_path):
    images, labels = make_dataset_dir(tmp_path, "mnist", "train", compress=False)
    assert sorted(p.name for p in (tmp_path / "mnist").iterdir()) == [
        "train-images-idx3-ubyte", "train-labels-idx1-ubyte"]
    got_images, got_labels = data.load_mnist("train", tmp_path, download=False)
    np.testing.assert_array_equal(got_images, images)
    np.testing.assert_array_equal(got_labels, labels)


def test_missing_files_without_download_say_where_to_put_them(tmp_path):
    with pytest.raises(data.DataError) as e:
        data.load_mnist("test", tmp_path, download=False)
    msg = str(e.value)
    assert str(tmp_path / "mnist") in msg
    assert "t10k-images-idx3-ubyte.gz" in msg and "t10k-labels-idx1-ubyte.gz" in msg
    assert "--data-dir" in msg and "CNNBP_DATA_DIR" in msg


def test_files_one_level_too_high_are_pointed_out(tmp_path):
    make_dataset_dir(tmp_path, folder=".", split="test")
    with pytest.raises(data.DataError, match="directly in"):
        data.load_mnist("test", tmp_path, download=False)


# --- loading: validation ----------------------------------------------------------

@pytest.mark.parametrize("split", ["val", "training", "TRAIN", ""])
def test_unknown_split_is_a_clear_error(split):
    with pytest.raises(ValueError, match="expected 'train' or 'test'"):
        data.load_dataset("mnist-sample", split)


def test_unknown_dataset_lists_the_known_ones():
    with pytest.raises(ValueError, match="mnist, fashion-mnist, mnist-sample"):
        data.load_dataset("cifar10", "train")


def test_dataset_names_ignore_case_and_underscores():
    assert data.get_dataset("Fashion_MNIST").name == "fashion-mnist"


def test_image_and_label_counts_must_agree(tmp_path):
    images, labels = images_and_labels(5)
    write_idx(tmp_path / "mnist" / "train-images-idx3-ubyte.gz", images)
    write_idx(tmp_path / "mnist" / "train-labels-idx1-ubyte.gz", labels[:4])
    with pytest.raises(data.DataError, match="5 images but .* 4 labels"):
        data.load_mnist("train", tmp_path, download=False)


def test_images_must_be_28_by_28(tmp_path):
    images, labels = images_and_labels(5, rows=32, cols=28)
    write_idx(tmp_path / "mnist" / "train-images-idx3-ubyte.gz", images)
    write_idx(tmp_path / "mnist" / "train-labels-idx1-ubyte.gz", labels)
    with pytest.raises(data.DataError, match=r"28x28 pixels, found shape \(5, 32, 28\)"):
        data.load_mnist("train", tmp_path, download=False)


def test_labels_and_images_swapped_are_caught_by_magic(tmp_path):
    images, labels = images_and_labels(5)
    write_idx(tmp_path / "mnist" / "train-images-idx3-ubyte.gz", labels)
    write_idx(tmp_path / "mnist" / "train-labels-idx1-ubyte.gz", images)
    with pytest.raises(data.DataError, match="wrong IDX magic number"):
        data.load_mnist("train", tmp_path, download=False)


def test_labels_out_of_range(tmp_path):
    images, labels = images_and_labels(5)
    labels[2] = 10
    write_idx(tmp_path / "mnist" / "t10k-images-idx3-ubyte.gz", images)
    write_idx(tmp_path / "mnist" / "t10k-labels-idx1-ubyte.gz", labels)
    with pytest.raises(data.DataError, match=r"expected labels 0\.\.9, found 10"):
        data.load_mnist("test", tmp_path, download=False)


# --- the shipped sample -----------------------------------------------------------

@pytest.mark.parametrize("split", ["train", "test"])
def test_sample_shapes_dtypes_and_class_balance(split):
    images, labels = data.load_dataset("mnist-sample", split)
    n = SAMPLE_PER_CLASS[split]
    assert images.shape == (10 * n, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (10 * n,) and labels.dtype == np.uint8
    assert np.bincount(labels, minlength=10).tolist() == [n] * 10
    assert images.max() == 255 and images.min() == 0  # real digits: white ink on black


def test_sample_ignores_data_dir_and_never_downloads(tmp_path):
    images, _ = data.load_dataset("mnist-sample", "test", data_dir=tmp_path, download=False)
    assert len(images) == 10 * SAMPLE_PER_CLASS["test"]
    assert list(tmp_path.iterdir()) == []


def test_sample_is_small():
    folder = data.dataset_folder("mnist-sample")
    total = sum(p.stat().st_size for p in folder.iterdir())
    assert total < 1_000_000


@needs_shared_mnist
@pytest.mark.parametrize("split", ["train", "test"])
def test_sample_digits_are_real_mnist_digits_with_their_labels(split):
    full_images, full_labels = data.load_mnist(split, SHARED_MNIST.parent, download=False)
    images, labels = data.load_dataset("mnist-sample", split)
    where = {img.tobytes(): i for i, img in enumerate(full_images)}
    index = np.array([where[img.tobytes()] for img in images])  # KeyError: not from MNIST
    np.testing.assert_array_equal(full_labels[index], labels)
    assert (np.diff(index) > 0).all()  # distinct, in the original order


def test_balanced_subset_takes_per_class_sorted_and_is_seeded():
    labels = np.repeat(np.arange(3), [5, 7, 4])
    a = balanced_subset(labels, 3, np.random.default_rng(7))
    b = balanced_subset(labels, 3, np.random.default_rng(7))
    np.testing.assert_array_equal(a, b)
    assert np.bincount(labels[a]).tolist() == [3, 3, 3]
    assert (np.diff(a) > 0).all()


def test_balanced_subset_refuses_more_than_a_class_has():
    with pytest.raises(ValueError, match=r"per-class counts \[5, 7, 4\]"):
        balanced_subset(np.repeat(np.arange(3), [5, 7, 4]), 5, np.random.default_rng(0))


# --- real MNIST -----------------------------------------------------------------

@needs_shared_mnist
def test_full_mnist_counts_match_its_readme():
    train_images, train_labels = data.load_mnist("train", SHARED_MNIST.parent, download=False)
    test_images, test_labels = data.load_mnist("test", SHARED_MNIST.parent, download=False)
    assert train_images.shape == (60000, 28, 28) and train_labels.shape == (60000,)
    assert test_images.shape == (10000, 28, 28) and test_labels.shape == (10000,)
    assert np.bincount(train_labels, minlength=10).tolist() == MNIST_TRAIN_COUNTS
    assert np.bincount(test_labels, minlength=10).sum() == 10000


@needs_shared_mnist
def test_verify_dataset_accepts_recompressed_mnist_by_payload_sha256():
    paths = data.verify_dataset("mnist", data_dir=SHARED_MNIST.parent)
    assert len(paths) == 4


def test_verify_dataset_rejects_a_wrong_file(tmp_path):
    make_dataset_dir(tmp_path, "mnist", "test")
    with pytest.raises(data.DataError, match="checksum mismatch"):
        data.verify_dataset("mnist", "test", data_dir=tmp_path)
