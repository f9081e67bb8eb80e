"""Readers: fixtures in the real formats round-trip; corrupt or wrong-shaped files are
rejected with the file named. Also the offline demo's stand-in data (make_raw)."""
from __future__ import annotations

import gzip
import json
import pickle
import struct
import tarfile

import numpy as np
import pytest
from PIL import Image

from idl.data import demo_data as F
from idl.data.sources import check_layout
from idl.data.readers import cifar10_label_names, load_cifar10, load_fashion_mnist, read_idx
from idl.errors import DataError

TRAIN_IMAGES = "train-images-idx3-ubyte.gz"


def test_idx_round_trip_gz_and_plain(tmp_path):
    arr = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    F.write_idx(tmp_path / "a.gz", arr)
    got = read_idx(tmp_path / "a.gz")
    assert got.dtype == np.uint8 and got.shape == (2, 3, 4)
    np.testing.assert_array_equal(got, arr)
    (tmp_path / "a").write_bytes(gzip.decompress((tmp_path / "a.gz").read_bytes()))
    np.testing.assert_array_equal(read_idx(tmp_path / "a"), arr)  # told apart by magic bytes


def test_idx_known_header_bytes(tmp_path):
    # 00 00 08 01 | 00 00 00 03 | 01 02 03: three unsigned bytes
    (tmp_path / "labels").write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 3, 1, 2, 3]))
    np.testing.assert_array_equal(read_idx(tmp_path / "labels"), [1, 2, 3])
    # big-endian int32: 00 00 0C 01 | 00 00 00 01 | 00 00 01 00 -> 256
    (tmp_path / "ints").write_bytes(bytes([0, 0, 0x0C, 1, 0, 0, 0, 1, 0, 0, 1, 0]))
    assert read_idx(tmp_path / "ints").tolist() == [256]


@pytest.mark.parametrize("corrupt, message", [
    (lambda raw: raw[: len(raw) // 2], "cannot decompress"),
    (lambda raw: gzip.compress(b"\x08\x08\x08\x03" + gzip.decompress(raw)[4:]), "not an IDX file"),
    (lambda raw: gzip.compress(gzip.decompress(raw)[:-5]), "IDX header says shape"),
    (lambda raw: gzip.compress(b"\x00\x00\x08\x03\x00"), "ends after 5 bytes"),
    (lambda raw: b"", "not an IDX file"),
])
def test_corrupt_idx_is_rejected_naming_the_file(tmp_path, corrupt, message):
    F.make_fashion_mnist(tmp_path, n_train=10, n_test=10)
    path = tmp_path / TRAIN_IMAGES
    path.write_bytes(corrupt(path.read_bytes()))
    with pytest.raises(DataError, match=message) as err:
        load_fashion_mnist(tmp_path)
    assert str(path) in str(err.value)


def test_fashion_mnist_round_trip(tmp_path):
    want = F.make_fashion_mnist(tmp_path, n_train=50, n_test=20, seed=4)
    got = load_fashion_mnist(tmp_path)
    for g, w in zip(got, want):
        assert g.dtype == np.uint8
        np.testing.assert_array_equal(g, w)
    assert got[0].shape == (50, 28, 28) and got[1].shape == (50,) and got[2].shape == (20, 28, 28)
    assert set(got[1]) == set(range(10))  # balanced classes


def test_fashion_mnist_wrong_shapes_are_rejected(tmp_path):
    F.make_fashion_mnist(tmp_path, n_train=10, n_test=10)
    F.write_idx(tmp_path / TRAIN_IMAGES, np.zeros((10, 32, 32), np.uint8))
    with pytest.raises(DataError, match=r"\(N, 28, 28\)") as err:
        load_fashion_mnist(tmp_path)
    assert TRAIN_IMAGES in str(err.value)

    F.write_idx(tmp_path / TRAIN_IMAGES, np.zeros((9, 28, 28), np.uint8))
    with pytest.raises(DataError, match="9 images but .*train-labels-idx1-ubyte.gz holds 10"):
        load_fashion_mnist(tmp_path)

    F.write_idx(tmp_path / TRAIN_IMAGES, np.zeros((10, 28, 28), np.uint8))
    F.write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.full(10, 12, np.uint8))
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte.gz: labels must be 0..9"):
        load_fashion_mnist(tmp_path)


def test_fashion_mnist_missing_file_is_named(tmp_path):
    F.make_fashion_mnist(tmp_path, n_train=10, n_test=10)
    (tmp_path / "t10k-images-idx3-ubyte.gz").unlink()
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte.gz: file not found"):
        load_fashion_mnist(tmp_path)


def extract_cifar(tmp_path, **kw):
    arrays = F.make_cifar10_tarball(tmp_path / "c.tar.gz", **kw)
    with tarfile.open(tmp_path / "c.tar.gz") as tf:
        tf.extractall(tmp_path / "raw", filter="data")
    return tmp_path / "raw", arrays


def test_cifar10_round_trip(tmp_path):
    raw, want = extract_cifar(tmp_path, n_per_batch=4, n_test=6, seed=2)
    got = load_cifar10(raw)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)
    assert got[0].shape == (20, 32, 32, 3) and got[0].dtype == np.uint8
    assert got[2].shape == (6, 32, 32, 3) and got[3].dtype == np.uint8
    np.testing.assert_array_equal(load_cifar10(raw / "cifar-10-batches-py")[3], want[3])
    assert cifar10_label_names(raw) == list(F.CIFAR10_LABEL_NAMES)


def test_cifar10_rows_are_channel_planes(tmp_path):
    """The published row format: 1024 red, then 1024 green, then 1024 blue values."""
    raw, _ = extract_cifar(tmp_path, n_per_batch=1)
    row = np.concatenate([np.full(1024, 10), np.full(1024, 20), np.arange(1024) % 256])
    batch = {b"data": row[None].astype(np.uint8), b"labels": [7]}
    (raw / "cifar-10-batches-py" / "data_batch_1").write_bytes(pickle.dumps(batch, protocol=2))
    x, y, _, _ = load_cifar10(raw)
    assert x[0, 5, 7].tolist() == [10, 20, (5 * 32 + 7) % 256] and y[0] == 7


@pytest.mark.parametrize("content, message", [
    (pickle.dumps({b"data": np.zeros((2, 3000), np.uint8), b"labels": [0, 1]}), r"\(N, 3072\)"),
    (pickle.dumps({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0]}), "2 images but labels"),
    (pickle.dumps({b"data": np.zeros((1, 3072), np.uint8), b"labels": [10]}),
     "labels must be 0..9"),
    (pickle.dumps({b"pixels": 1}), "no 'data'/'labels'"),
    (pickle.dumps([1, 2]), "expected a pickled dict"),
    (b"\x80\x02garbage", "cannot unpickle"),
])
def test_cifar10_bad_batches_are_rejected_naming_the_file(tmp_path, content, message):
    raw, _ = extract_cifar(tmp_path, n_per_batch=2)
    bad = raw / "cifar-10-batches-py" / "data_batch_3"
    bad.write_bytes(content)
    with pytest.raises(DataError, match=message) as err:
        load_cifar10(raw)
    assert str(bad) in str(err.value)


def py2_pickle(obj, numpy_module: str = "numpy.core.multiarray") -> bytes:
    """``obj`` pickled as Python 2's cPickle (protocol 2) wrote the official CIFAR-10 batches:
    str values as SHORT_BINSTRING/BINSTRING, arrays via ``_reconstruct`` with raw bytes."""
    def string(b: bytes) -> bytes:
        return (b"U" + bytes([len(b)]) if len(b) < 256 else b"T" + struct.pack("<i", len(b))) + b

    def integer(i: int) -> bytes:
        return b"J" + struct.pack("<i", i)

    def save(o) -> bytes:
        if isinstance(o, bytes):
            return string(o)
        if isinstance(o, int):
            return integer(o)
        if isinstance(o, list):
            return b"](" + b"".join(save(v) for v in o) + b"e"
        if isinstance(o, dict):
            return b"}(" + b"".join(save(k) + save(v) for k, v in o.items()) + b"u"
        assert isinstance(o, np.ndarray) and o.dtype == np.uint8
        dtype = (b"cnumpy\ndtype\n" + string(b"u1") + integer(0) + integer(1) + b"\x87R"
                 + b"(" + integer(3) + string(b"|") + b"NNN" + integer(-1) + integer(-1)
                 + integer(0) + b"tb")
        return (f"c{numpy_module}\n_reconstruct\n".encode() + b"cnumpy\nndarray\n"
                + integer(0) + b"\x85" + string(b"b") + b"\x87R"
                + b"(" + integer(1) + b"(" + b"".join(integer(d) for d in o.shape) + b"t"
                + dtype + b"\x89" + string(o.tobytes()) + b"tb")

    return b"\x80\x02" + save(obj) + b"."


@pytest.mark.parametrize("numpy_module", ["numpy.core.multiarray", "numpy._core.multiarray"])
def test_cifar10_batches_as_python2_wrote_them_load(tmp_path, numpy_module):
    raw, want = extract_cifar(tmp_path, n_per_batch=3, n_test=2)
    folder = raw / "cifar-10-batches-py"
    x_test, y_test = want[2], want[3]
    data = x_test.transpose(0, 3, 1, 2).reshape(len(x_test), 3072)
    batch = {b"batch_label": b"testing batch 1 of 1", b"labels": [int(v) for v in y_test],
             b"data": data, b"filenames": [b"a_%d.png" % i for i in range(len(x_test))]}
    (folder / "test_batch").write_bytes(py2_pickle(batch, numpy_module))
    meta = {b"num_cases_per_batch": 10000, b"num_vis": 3072,
            b"label_names": [n.encode() for n in F.CIFAR10_LABEL_NAMES]}
    (folder / "batches.meta").write_bytes(py2_pickle(meta, numpy_module))
    got = load_cifar10(raw)
    np.testing.assert_array_equal(got[2], x_test)
    np.testing.assert_array_equal(got[3], y_test)
    assert cifar10_label_names(raw) == list(F.CIFAR10_LABEL_NAMES)


def test_cifar10_missing_batches(tmp_path):
    raw, _ = extract_cifar(tmp_path, n_per_batch=2)
    (raw / "cifar-10-batches-py" / "test_batch").unlink()
    with pytest.raises(DataError, match="test_batch: file not found"):
        load_cifar10(raw)
    with pytest.raises(DataError, match="no cifar-10-batches-py/"):
        load_cifar10(tmp_path / "empty")


# --- make_raw: the offline demo's stand-ins ----------------------------------------------------

def centroid_accuracy(x_train, y_train, x_test, y_test) -> float:
    x_train = x_train.reshape(len(x_train), -1).astype(float)
    x_test = x_test.reshape(len(x_test), -1).astype(float)
    centres = np.stack([x_train[y_train == c].mean(axis=0) for c in range(10)])
    pred = np.argmin(((x_test[:, None] - centres[None]) ** 2).sum(axis=-1), axis=1)
    return float((pred == y_test).mean())


@pytest.mark.parametrize("name, reader, n_train, low, high", [
    ("fashion_mnist", load_fashion_mnist, 600, 0.4, 0.95),
    ("cifar10", load_cifar10, 5 * 120, 0.2, 0.8),
])
def test_make_raw_classification_data_is_learnable_but_not_trivial(tmp_path, name, reader, n_train,
                                                                   low, high):
    record = F.make_raw(name, tmp_path / name, seed=0)
    assert record["source"] == "synthetic"
    assert json.loads((tmp_path / name / "SOURCE.json").read_text()) == record
    x_train, y_train, x_test, y_test = reader(tmp_path / name)
    assert len(x_train) == n_train
    # Even a nearest-centroid classifier beats chance (0.1) clearly, and is far from perfect.
    assert low < centroid_accuracy(x_train, y_train, x_test, y_test) < high


@pytest.mark.parametrize("name, pattern, size, mode", [
    ("afhq", "afhq/train/cat/*.jpg", (512, 512), "RGB"),
    ("pistachio", "Pistachio_Image_Dataset/Pistachio_Image_Dataset/Siirt_Pistachio/*.jpg",
     (600, 600), "RGB"),
    ("tinyhero", "data/2/*.png", (64, 64), "RGBA"),
])
def test_make_raw_image_sets_have_the_real_layout(tmp_path, name, pattern, size, mode):
    dest = tmp_path / name
    record = F.make_raw(name, dest, seed=1)
    assert check_layout(name, dest, record["counts"]) == record["counts"]
    image = Image.open(next(dest.glob(pattern)))
    assert image.size == size and image.mode == mode


def test_make_raw_sizes_override_the_scale(tmp_path):
    record = F.make_raw("cifar10", tmp_path / "c", n_train=13, n_test=4)
    x_train, y_train, x_test, _ = load_cifar10(tmp_path / "c")
    assert len(x_train) == len(y_train) == 13 and len(x_test) == 4  # batches of 3, 3, 3, 2, 2
    assert record["sizes"] == {"n_train": 13, "n_test": 4}
    record = F.make_raw("afhq", tmp_path / "a", n_cat=5, n_other=1)
    assert record["counts"] == {"train/cat": 5, "train/dog": 1, "train/wild": 1,
                                "val/cat": 1, "val/dog": 1, "val/wild": 1}
    with pytest.raises(ValueError, match="unknown size n_dog; accepted: n_cat, n_other"):
        F.make_raw("afhq", tmp_path / "b", n_dog=3)
    assert not (tmp_path / "b").exists()


def test_make_raw_is_deterministic_and_refuses_clock(tmp_path):
    a = F.make_raw("tinyhero", tmp_path / "a", seed=3)
    b = F.make_raw("tinyhero", tmp_path / "b", seed=3)
    assert a == b
    assert (tmp_path / "a/data/1/7.png").read_bytes() == (tmp_path / "b/data/1/7.png").read_bytes()
    with pytest.raises(ValueError, match="idl.clock.synth"):
        F.make_raw("clock", tmp_path / "clock")
    assert not (tmp_path / "clock").exists()
    with pytest.raises(ValueError, match="unknown scale"):
        F.make_raw("afhq", tmp_path / "x", scale="huge")
