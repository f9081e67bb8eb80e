"""Read the raw Fashion-MNIST and CIFAR-10 files into numpy arrays, validating as we go.

The raw files are kept exactly as published (IDX gz, pickled batches), so these readers
are the one place that knows their formats. Every check names the file, because a
truncated or swapped file is the usual cause and re-acquiring it is the usual cure.
"""
from __future__ import annotations

import gzip
import logging
import os
import pickle
import zlib
from pathlib import Path

import numpy as np

from idl.errors import DataError

log = logging.getLogger(__name__)

# IDX type codes (http://yann.lecun.com/exdb/mnist/): data are big-endian.
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}

FASHION_MNIST_FILES = {
    "x_train": "train-images-idx3-ubyte.gz",
    "y_train": "train-labels-idx1-ubyte.gz",
    "x_test": "t10k-images-idx3-ubyte.gz",
    "y_test": "t10k-labels-idx1-ubyte.gz",
}
CIFAR10_DIR = "cifar-10-batches-py"
CIFAR10_TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR10_TEST_BATCH = "test_batch"
N_CLASSES = 10

_REACQUIRE = "the file is corrupt or truncated: delete it and acquire the dataset again"


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """An IDX file (gzip-compressed or not, told apart by its magic bytes) as an array.

    The header's dimensions must account for exactly the bytes that follow.
    """
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
    except FileNotFoundError:
        raise DataError(f"{path}: file not found; acquire the dataset first") from None
    except (OSError, EOFError, zlib.error) as e:
        raise DataError(f"{path}: cannot decompress ({e}); {_REACQUIRE}") from e
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES or raw[3] == 0:
        raise DataError(f"{path}: not an IDX file (header bytes {raw[:4].hex() or 'empty'}, "
                        f"expected 00 00 <type> <ndim>); {_REACQUIRE}")
    dtype, ndim = np.dtype(_IDX_DTYPES[raw[2]]), raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{path}: IDX header announces {ndim} dimensions but the file ends "
                        f"after {len(raw)} bytes; {_REACQUIRE}")
    shape = tuple(int(d) for d in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) - header != expected:
        raise DataError(f"{path}: IDX header says shape {shape} ({expected} data bytes) but the "
                        f"file holds {len(raw) - header}; {_REACQUIRE}")
    data = np.frombuffer(raw, dtype, offset=header).reshape(shape)
    return data.astype(dtype.newbyteorder("="), copy=True)


def load_fashion_mnist(raw_dir: str | os.PathLike):
    """``(x_train, y_train, x_test, y_test)``: uint8 images (N, 28, 28), uint8 labels 0..9."""
    raw_dir = Path(raw_dir)
    arrays = {key: read_idx(_find(raw_dir, fn)) for key, fn in FASHION_MNIST_FILES.items()}
    for split in ("train", "test"):
        x_key, y_key = f"x_{split}", f"y_{split}"
        x_file, y_file = (raw_dir / FASHION_MNIST_FILES[k] for k in (x_key, y_key))
        x, y = arrays[x_key], arrays[y_key]
        if x.dtype != np.uint8 or x.ndim != 3 or x.shape[1:] != (28, 28):
            raise DataError(f"{x_file}: expected uint8 images of shape (N, 28, 28), got "
                            f"{x.dtype} {x.shape}; is this the right file?")
        if y.dtype != np.uint8 or y.ndim != 1:
            raise DataError(f"{y_file}: expected uint8 labels of shape (N,), got {y.dtype} "
                            f"{y.shape}; is this the right file?")
        if len(x) != len(y):
            raise DataError(f"{x_file} holds {len(x)} images but {y_file} holds {len(y)} labels;"
                            " the files come from different versions: acquire the dataset again")
        _check_labels(y, y_file)
    return arrays["x_train"], arrays["y_train"], arrays["x_test"], arrays["y_test"]


def load_cifar10(raw_dir: str | os.PathLike):
    """``(x_train, y_train, x_test, y_test)``: uint8 images (N, 32, 32, 3), uint8 labels 0..9.

    ``raw_dir`` is the acquired folder (holding ``cifar-10-batches-py/``) or that folder itself.
    The batches are Python pickles: only load files from the official archive.
    """
    batches = _cifar_dir(Path(raw_dir))
    train = [_read_cifar_batch(batches / b) for b in CIFAR10_TRAIN_BATCHES]
    x_test, y_test = _read_cifar_batch(batches / CIFAR10_TEST_BATCH)
    x_train = np.concatenate([x for x, _ in train])
    y_train = np.concatenate([y for _, y in train])
    return x_train, y_train, x_test, y_test


def cifar10_label_names(raw_dir: str | os.PathLike) -> list[str]:
    """Class names from ``batches.meta`` (``airplane``, ``automobile``, ...)."""
    path = _cifar_dir(Path(raw_dir)) / "batches.meta"
    meta = _unpickle(path)
    names = meta.get(b"label_names", meta.get("label_names"))
    if not isinstance(names, (list, tuple)) or len(names) != N_CLASSES:
        raise DataError(f"{path}: expected {N_CLASSES} label_names, got {names!r:.80}; "
                        f"{_REACQUIRE}")
    return [n.decode() if isinstance(n, bytes) else str(n) for n in names]


def _read_cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    batch = _unpickle(path)
    data = batch.get(b"data", batch.get("data"))
    labels = batch.get(b"labels", batch.get("labels"))
    if data is None or labels is None:
        raise DataError(f"{path}: no 'data'/'labels' entries (keys {list(batch)[:6]}); "
                        f"{_REACQUIRE}")
    data, labels = np.asarray(data), np.asarray(labels)
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise DataError(f"{path}: expected uint8 data of shape (N, 3072), got {data.dtype} "
                        f"{data.shape}; {_REACQUIRE}")
    if labels.shape != (len(data),):
        raise DataError(f"{path}: {len(data)} images but labels of shape {labels.shape}; "
                        f"{_REACQUIRE}")
    _check_labels(labels, path)
    # Rows are 1024 red, 1024 green, 1024 blue values, each plane row-major.
    images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), labels.astype(np.uint8)


def _unpickle(path: Path) -> dict:
    if not path.is_file():
        raise DataError(f"{path}: file not found; acquire the dataset first")
    try:
        with open(path, "rb") as fh:
            obj = pickle.load(fh, encoding="bytes")
    except Exception as e:  # pickle raises many types on corrupt input
        raise DataError(f"{path}: cannot unpickle ({type(e).__name__}: {e}); {_REACQUIRE}") from e
    if not isinstance(obj, dict):
        raise DataError(f"{path}: expected a pickled dict, got {type(obj).__name__}; {_REACQUIRE}")
    return obj


def _cifar_dir(raw_dir: Path) -> Path:
    inner = raw_dir / CIFAR10_DIR
    if inner.is_dir():
        return inner
    if (raw_dir / CIFAR10_TEST_BATCH).is_file():
        return raw_dir
    raise DataError(f"{raw_dir}: no {CIFAR10_DIR}/ folder with the CIFAR-10 batches; "
                    "acquire the dataset first")


def _find(raw_dir: Path, filename: str) -> Path:
    """The published ``.gz`` file, or its uncompressed twin if someone unpacked it."""
    path = raw_dir / filename
    if not path.exists() and (raw_dir / filename.removesuffix(".gz")).exists():
        return raw_dir / filename.removesuffix(".gz")
    return path


def _check_labels(labels: np.ndarray, path: Path) -> None:
    if labels.size and (labels.min() < 0 or labels.max() >= N_CLASSES):
        raise DataError(f"{path}: labels must be 0..{N_CLASSES - 1}, found {labels.min()}.."
                        f"{labels.max()}; is this the right file?")
