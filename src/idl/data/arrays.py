"""The one way the project reads ``.npy`` and ``.npz`` files: checked before anything is allocated.

``np.load`` trusts a file: an ``.npz`` under an ``.npy`` name comes back as an archive object,
a header that claims an absurd shape makes it try to allocate terabytes, a truncated file fails
deep inside NumPy, and ``allow_pickle`` would run code. Here the magic and the header are read
first (``numpy.lib.format``) and the array is read only when the bytes that follow are exactly
the ``shape x itemsize`` the header promises; every problem is a :class:`DataError` that names
the file, says what is wrong with it and what to do (``fix``).

Only plain numbers are loaded (``kinds``: NumPy dtype kinds, booleans, integers, unsigned
integers and floats by default); object (pickled), string, structured and other dtypes are
refused. Data stored in the other byte order is converted to this machine's.

:func:`load_index` adds the checks every file of row indices (a train/validation/test split)
needs, on top of :func:`load_npy`.
"""
from __future__ import annotations

import os
import stat
import zipfile
import zlib
from pathlib import Path
from typing import BinaryIO, Iterable

import numpy as np
from numpy.lib import format as npformat

from idl.errors import DataError

#: What to do about a damaged array file when the caller knows nothing better.
DEFAULT_FIX = "rerun the step that writes it"
NUMBER_KINDS = "biuf"
_KIND_NAMES = {"b": "booleans", "i": "integers", "u": "unsigned integers", "f": "floats", "c": "complex numbers"}
_CHUNK = 1 << 24  # read in 16 MiB pieces: memory grows with the bytes that really are there
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, zlib.error,
               NotImplementedError, RuntimeError, ValueError)  # RuntimeError: encrypted entry


def _fail(where: str, problem: str, fix: str) -> DataError:
    return DataError(f"{where}: {problem}; {fix}")


def _say(exc: BaseException) -> str:
    """An exception as one line (NumPy's and zipfile's messages may span several)."""
    return f"{type(exc).__name__}: {' '.join(str(exc).split())}"[:300]


def _check_regular_file(path: Path, fix: str) -> os.stat_result:
    try:
        st = path.stat()
    except FileNotFoundError:
        raise _fail(str(path), "file not found", fix) from None
    except OSError as exc:  # permission, a broken path component, a name too long...
        raise _fail(str(path), f"cannot be read ({exc.strerror or exc})", fix) from None
    if stat.S_ISDIR(st.st_mode):
        raise _fail(str(path), "is a folder, not a file", fix)
    if not stat.S_ISREG(st.st_mode):
        raise _fail(str(path), "is not a regular file (a device, pipe or socket)", fix)
    if st.st_size == 0:
        raise _fail(str(path), "is empty (0 bytes)", fix)
    return st


def _read_up_to(fp: BinaryIO, n: int) -> bytearray:
    """At most ``n`` bytes, fewer only at the end of the data; never allocates more than is read."""
    buf = bytearray()
    while len(buf) < n:
        chunk = fp.read(min(n - len(buf), _CHUNK))
        if not chunk:
            break
        buf += chunk
    return buf


def _looks_like_text(head: bytes) -> bool:
    return all(32 <= b < 127 or b in b"\t\r\n" for b in head)


def _read_header(fp: BinaryIO, where: str, kinds: str, fix: str) -> tuple[tuple[int, ...], bool, np.dtype, int]:
    """Check the magic and header at the start of ``fp``: ``(shape, fortran_order, dtype, nbytes)``."""
    head = bytes(_read_up_to(fp, npformat.MAGIC_LEN))
    if not head:
        raise _fail(where, "is empty (0 bytes)", fix)
    if head.startswith(b"PK"):
        raise _fail(where, "is an .npz archive (a zip file), not .npy: it was saved with numpy.savez under "
                           "an .npy name", fix)
    if not head.startswith(npformat.MAGIC_PREFIX) and not npformat.MAGIC_PREFIX.startswith(head):
        hint = " and looks like text, e.g. an error page saved in its place" if _looks_like_text(head) else ""
        raise _fail(where, f"is not a .npy array file (it starts with {head!r}{hint})", fix)
    if len(head) < npformat.MAGIC_LEN:
        raise _fail(where, "is truncated inside its .npy header", fix)
    version = (head[-2], head[-1])
    if version not in ((1, 0), (2, 0), (3, 0)):
        raise _fail(where, f"has an unknown .npy format version {version[0]}.{version[1]}", fix)
    # 3.0 differs from 2.0 only in allowing UTF-8 field names, which plain numbers do not have
    reader = npformat.read_array_header_1_0 if version == (1, 0) else npformat.read_array_header_2_0
    try:
        shape, fortran_order, dtype = reader(fp)
    except Exception as exc:  # noqa: BLE001 - whatever the parser of an untrusted header raises, it is damaged
        raise _fail(where, f"has a damaged .npy header ({_say(exc)})", fix) from None
    if any(d < 0 for d in shape):
        raise _fail(where, f"has a damaged .npy header (negative dimension in shape {shape})", fix)
    if dtype.hasobject:
        raise _fail(where, f"holds Python objects (dtype {dtype}), which are never loaded: reading them "
                           "would unpickle, and unpickling a file can run any code", fix)
    if dtype.kind not in kinds or dtype.fields is not None or dtype.subdtype is not None:
        wanted = ", ".join(_KIND_NAMES.get(k, k) for k in kinds)
        raise _fail(where, f"holds {dtype} data (numpy dtype {dtype.str!r}); expected plain numbers ({wanted})",
                    fix)
    nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize  # Python ints: no overflow
    return tuple(shape), fortran_order, dtype, nbytes


def _size_problem(shape, dtype, nbytes: int, found: int) -> str | None:
    what = f"its header says {shape} {dtype} = {nbytes:,} bytes"
    if found < nbytes:
        return f"is truncated or its header is wrong: {what}, but only {found:,} bytes follow"
    if found > nbytes:
        return f"is damaged: {what}, but {found:,} bytes follow"
    return None


def _from_bytes(buf: bytearray, shape, fortran_order: bool, dtype: np.dtype) -> np.ndarray:
    arr = np.frombuffer(buf, dtype=dtype).reshape(shape, order="F" if fortran_order else "C")
    return arr if dtype.isnative else arr.astype(dtype.newbyteorder("="))


def load_npy(path: str | os.PathLike, *, mmap: bool = False, kinds: str = NUMBER_KINDS,
             fix: str = DEFAULT_FIX) -> np.ndarray:
    """Read one ``.npy`` array of plain numbers, or raise DataError naming ``path``.

    ``mmap=True`` maps the file read-only instead of reading it (big image files); data in the
    other byte order is read into memory instead. ``kinds`` are the NumPy dtype kinds accepted
    (``"biuf"``: booleans, integers, unsigned integers, floats); ``fix`` ends every message.
    """
    path = Path(path)
    st = _check_regular_file(path, fix)
    try:
        with open(path, "rb") as fp:
            shape, fortran_order, dtype, nbytes = _read_header(fp, str(path), kinds, fix)
            offset = fp.tell()
            problem = _size_problem(shape, dtype, nbytes, st.st_size - offset)
            if problem:
                raise _fail(str(path), problem, fix)
            if mmap and dtype.isnative and nbytes > 0:
                return np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=shape,
                                 order="F" if fortran_order else "C")
            buf = _read_up_to(fp, nbytes)
    except OSError as exc:  # unreadable (permissions), or a disk error while reading
        raise _fail(str(path), f"cannot be read ({exc.strerror or exc})", fix) from None
    if len(buf) != nbytes:  # the file shrank while it was read
        raise _fail(str(path), _size_problem(shape, dtype, nbytes, len(buf)), fix)
    return _from_bytes(buf, shape, fortran_order, dtype)


def load_npz(path: str | os.PathLike, keys: Iterable[str] | None = None, *, kinds: str = NUMBER_KINDS,
             fix: str = DEFAULT_FIX) -> dict[str, np.ndarray]:
    """The arrays ``keys`` (default: all) of an ``.npz`` archive (``numpy.savez``), each checked as
    :func:`load_npy` checks a file; a damaged archive or a missing key is a DataError naming ``path``."""
    path = Path(path)
    _check_regular_file(path, fix)
    try:
        with open(path, "rb") as fp:
            head = fp.read(len(npformat.MAGIC_PREFIX))
        if head == npformat.MAGIC_PREFIX:
            raise _fail(str(path), "is a single .npy array (numpy.save), not an .npz archive (numpy.savez)", fix)
        with zipfile.ZipFile(path) as zf:
            infos = {info.filename: info for info in zf.infolist()}
            odd = [name for name in infos if not name.endswith(".npy")]
            if odd:
                raise _fail(str(path), f"holds {odd[0]!r}, which is not a .npy entry; an .npz archive written by "
                                       "numpy.savez holds nothing else", fix)
            have = [name[:-len(".npy")] for name in infos]
            wanted = have if keys is None else list(keys)
            missing = [k for k in wanted if k not in have]
            if missing:
                raise _fail(str(path), f"has no array {', '.join(map(repr, missing))} (it has {have})", fix)
            out = {}
            for key in wanted:
                info = infos[f"{key}.npy"]
                where = f"{path} (array {key!r})"
                with zf.open(info) as fp:
                    shape, fortran_order, dtype, nbytes = _read_header(fp, where, kinds, fix)
                    problem = _size_problem(shape, dtype, nbytes, info.file_size - fp.tell())
                    if problem:
                        raise _fail(where, problem, fix)
                    buf = _read_up_to(fp, nbytes)
                    if len(buf) != nbytes or fp.read(1):
                        raise _fail(where, "is damaged: its data is not the size the archive says", fix)
                out[key] = _from_bytes(buf, shape, fortran_order, dtype)
    except _ZIP_ERRORS as exc:
        raise _fail(str(path), f"is not a readable .npz archive ({_say(exc)})", fix) from None
    return out


def load_index(path: str | os.PathLike, n_rows: int | None = None, *, fix: str = DEFAULT_FIX) -> np.ndarray:
    """A non-empty 1-D file of row indices (int64), each in ``0..n_rows-1`` when ``n_rows`` is given."""
    path = Path(path)
    idx = load_npy(path, kinds="iu", fix=fix)
    if idx.ndim != 1:
        raise _fail(str(path), f"expected a 1-D array of row indices, found shape {idx.shape}", fix)
    if not len(idx):
        raise _fail(str(path), "has no row indices (0 rows)", fix)
    lo, hi = int(idx.min()), int(idx.max())
    if lo < 0 or (n_rows is not None and hi >= n_rows):
        bad = lo if lo < 0 else hi
        limit = f"0..{n_rows - 1}" if n_rows is not None else "0 or more"
        raise _fail(str(path), f"has row index {bad}, outside {limit} (the rows of the data it splits)", fix)
    return idx.astype(np.int64, copy=False)
