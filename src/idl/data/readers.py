"""Read the raw Fashion-MNIST and CIFAR-10 files into numpy arrays, validating as we go.

The raw files are kept exactly as published (IDX gz, pickled batches), so these readers
are the one place that knows their formats. Every check names the file, because a
truncated or swapped file is the usual cause and re-acquiring it is the usual cure.
"""
from __future__ import annotations

import contextlib
import gzip
import logging
import math
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
#: The largest IDX payload read (Fashion-MNIST's largest file holds 47 MB).
MAX_IDX_BYTES = 1 << 30

_REACQUIRE = "the file is corrupt or truncated: delete it and acquire the dataset again"


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """An IDX file (gzip-compressed or not, told apart by its magic bytes) as an array.

    The header's dimensions must account for exactly the bytes that follow. At most what
    the header announces (and :data:`MAX_IDX_BYTES`) is read, so a decompression bomb
    fails fast instead of filling the memory.
    """
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            gz = fh.read(2) == b"\x1f\x8b"
            fh.seek(0)
            with gzip.GzipFile(fileobj=fh) if gz else contextlib.nullcontext(fh) as src:
                return _read_idx_stream(src, path)
    except FileNotFoundError:
        raise DataError(f"{path}: file not found; acquire the dataset first") from None
    except (OSError, EOFError, zlib.error) as e:
        raise DataError(f"{path}: cannot decompress or read ({e}); {_REACQUIRE}") from e


def _read_idx_stream(src, path: Path) -> np.ndarray:
    magic = src.read(4)
    if len(magic) < 4 or magic[0] != 0 or magic[1] != 0 or magic[2] not in _IDX_DTYPES \
            or magic[3] == 0:
        raise DataError(f"{path}: not an IDX file (header bytes {magic.hex() or 'empty'}, "
                        f"expected 00 00 <type> <ndim>); {_REACQUIRE}")
    dtype, ndim = np.dtype(_IDX_DTYPES[magic[2]]), magic[3]
    dims = src.read(4 * ndim)
    if len(dims) < 4 * ndim:
        raise DataError(f"{path}: IDX header announces {ndim} dimensions but the file ends "
                        f"after {4 + len(dims)} bytes; {_REACQUIRE}")
    shape = tuple(int(d) for d in np.frombuffer(dims, ">u4"))
    expected = math.prod(shape) * dtype.itemsize  # Python ints: no overflow
    if expected > MAX_IDX_BYTES:
        raise DataError(f"{path}: IDX header announces shape {shape} ({expected} data bytes), "
                        f"more than the {MAX_IDX_BYTES} this reader accepts; {_REACQUIRE}")
    data = _read_at_most(src, expected + 1)
    if len(data) != expected:
        held = "more" if len(data) > expected else str(len(data))
        raise DataError(f"{path}: IDX header says shape {shape} ({expected} data bytes) but the "
                        f"file holds {held}; {_REACQUIRE}")
    return np.frombuffer(data, dtype).reshape(shape).astype(dtype.newbyteorder("="))


def _read_at_most(src, n: int) -> bytes:
    """Up to ``n`` bytes, in chunks: memory follows the bytes there are, not the bytes asked."""
    chunks = []
    while n > 0:
        chunk = src.read(min(n, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


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
        if len(x) == 0:
            raise DataError(f"{x_file}: holds no images; {_REACQUIRE}")
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
    for x, where in ((x_train, ", ".join(CIFAR10_TRAIN_BATCHES)), (x_test, CIFAR10_TEST_BATCH)):
        if len(x) == 0:
            raise DataError(f"{batches}: {where} hold no images; {_REACQUIRE}")
    return x_train, y_train, x_test, y_test


def cifar10_label_names(raw_dir: str | os.PathLike) -> list[str]:
    """Class names from ``batches.meta`` (``airplane``, ``automobile``, ...)."""
    path = _cifar_dir(Path(raw_dir)) / "batches.meta"
    meta = _unpickle(path)
    names = meta.get(b"label_names", meta.get("label_names"))
    if not isinstance(names, (list, tuple)) or len(names) != N_CLASSES \
            or not all(isinstance(n, (bytes, str)) for n in names):
        raise DataError(f"{path}: expected {N_CLASSES} label_names, got {_short(names)}; "
                        f"{_REACQUIRE}")
    return [n.decode("utf-8", "replace") if isinstance(n, bytes) else n for n in names]


def _read_cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    batch = _unpickle(path)
    data = batch.get(b"data", batch.get("data"))
    labels = batch.get(b"labels", batch.get("labels"))
    if data is None or labels is None:
        raise DataError(f"{path}: no 'data'/'labels' entries (keys {_short(list(batch)[:6])}); "
                        f"{_REACQUIRE}")
    data, labels = _as_array(data, path, "data"), _as_array(labels, path, "labels")
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise DataError(f"{path}: expected uint8 data of shape (N, 3072), got {data.dtype} "
                        f"{data.shape}; {_REACQUIRE}")
    if labels.shape != (len(data),) or (labels.size and labels.dtype.kind not in "iu"):
        raise DataError(f"{path}: {len(data)} images but labels of shape {labels.shape} dtype "
                        f"{labels.dtype} (expected {len(data)} integers); {_REACQUIRE}")
    _check_labels(labels, path)
    # Rows are 1024 red, 1024 green, 1024 blue values, each plane row-major.
    images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), labels.astype(np.uint8)


def _as_array(value, path: Path, key: str) -> np.ndarray:
    try:
        return np.asarray(value)
    except (ValueError, TypeError, OverflowError) as e:  # ragged lists and the like
        raise DataError(f"{path}: {key!r} is not an array ({_short(e)}); {_REACQUIRE}") from e


class _BatchUnpickler(pickle.Unpickler):
    """Unpickles what the CIFAR-10 batches hold, and nothing that could run code.

    A pickle may name any importable callable, so ``pickle.load`` on a crafted file runs
    whatever it says. The real batches (Python 2, protocol 2) are dicts of bytes, ints, lists
    and uint8 numpy arrays; the only globals they name are numpy's array reconstruction (and,
    when re-pickled by Python 3, ``_codecs.encode``/``bytes`` for bytes values). Any other
    global is refused before it is imported.
    """

    def __init__(self, fh, path: Path):
        super().__init__(fh, encoding="bytes")
        self.path = path

    def find_class(self, module: str, name: str):
        try:
            return _BATCH_GLOBALS[module, name]
        except KeyError:
            raise DataError(
                f"{self.path}: refuses to load global {module}.{name}: a CIFAR-10 batch holds "
                f"only bytes, numbers, lists and uint8 arrays, so this file is not one (it may "
                f"be crafted to run code). Do not use it: {_OFFICIAL}") from None


def _latin1(text, encoding="latin1"):
    """``_codecs.encode`` as Python 3 uses it to pickle bytes at protocol 2, and only that."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError(f"_codecs.encode({type(text).__name__}, {encoding!r})")
    return text.encode("latin1")


def _empty_bytes(*args):
    """``bytes()`` as Python 3 pickles ``b''`` at protocol 2 (``bytes(n)`` would allocate n)."""
    if args:
        raise pickle.UnpicklingError("bytes() with arguments")
    return b""


_RECONSTRUCT = np.ndarray.__reduce__(np.zeros(0))[0]  # numpy's _reconstruct, either module name
_BATCH_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("_codecs", "encode"): _latin1,
    ("__builtin__", "bytes"): _empty_bytes,
    ("builtins", "bytes"): _empty_bytes,
}
_PLAIN = (bytes, str, int, float, bool, type(None))
_MAX_DEPTH = 4
_OFFICIAL = ("download the official archive from https://www.cs.toronto.edu/~kriz/cifar.html "
             "and acquire the dataset again")


def _unpickle(path: Path) -> dict:
    """A CIFAR-10 batch file as a dict, through :class:`_BatchUnpickler`; every problem,
    crafted or corrupt, is a DataError naming the file."""
    if not path.is_file():
        raise DataError(f"{path}: file not found; acquire the dataset first")
    try:
        with open(path, "rb") as fh:
            obj = _BatchUnpickler(fh, path).load()
    except DataError:
        raise
    except Exception as e:  # pickle raises many types on corrupt input
        raise DataError(f"{path}: cannot unpickle ({type(e).__name__}: {_short(e)}); "
                        f"{_REACQUIRE}") from e
    if not isinstance(obj, dict):
        raise DataError(f"{path}: expected a pickled dict, got {type(obj).__name__}; {_REACQUIRE}")
    _check_plain(obj, path, path.stat().st_size)
    return obj


def _check_plain(obj, path: Path, file_bytes: int) -> None:
    """Refuse anything but shallow containers of plain values and arrays of numbers no larger
    than the file (an object array holds arbitrary Python objects; a larger array was made,
    not read, by a crafted file; deep nesting breaks ``repr``)."""
    stack = [(obj, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > _MAX_DEPTH:
            raise DataError(f"{path}: nested deeper than {_MAX_DEPTH} levels; a CIFAR-10 batch "
                            f"is a flat dict; {_REACQUIRE}")
        if isinstance(item, np.ndarray):
            if item.dtype.hasobject:
                raise DataError(f"{path}: holds an array of Python objects (dtype "
                                f"{item.dtype}); a CIFAR-10 batch holds uint8 arrays. Do not "
                                f"use this file: {_OFFICIAL}")
            if item.nbytes > file_bytes:
                raise DataError(f"{path}: holds an array of {item.nbytes} bytes, more than the "
                                f"file's {file_bytes}; this file is crafted, not a CIFAR-10 "
                                f"batch. Do not use it: {_OFFICIAL}")
        elif isinstance(item, dict):
            stack.extend((v, depth + 1) for kv in item.items() for v in kv)
        elif isinstance(item, (list, tuple)):
            stack.extend((v, depth + 1) for v in item)
        elif not isinstance(item, _PLAIN):
            raise DataError(f"{path}: holds a {type(item).__name__}; a CIFAR-10 batch holds "
                            f"only bytes, numbers, lists and uint8 arrays; {_REACQUIRE}")


def _short(obj, n: int = 80) -> str:
    text = repr(obj) if not isinstance(obj, BaseException) else str(obj)
    return text if len(text) <= n else text[:n] + "..."


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
