"""Atomic writes: every output appears whole or not at all, and no temporary outlives its run.

Write to a temporary sibling, then ``os.replace`` it into place, so an interrupted
run (Ctrl-C, SIGTERM, crash, failed validation) never leaves a half-written file that a
workflow engine would mistake for a finished output.

Temporaries are named ``.<target>.<host>~<pid>.<random>.tmp...`` after the process that
made them. An interrupted run removes its own (stage scripts turn SIGTERM and SIGINT into
an exception, so the ``finally`` blocks below run); after a ``kill -9`` nothing can, so
the next write of the same target sweeps the temporaries whose process is gone
(:func:`sweep_stale`). Temporaries of a live process, or of another host sharing the
folder, are never touched.
"""
from __future__ import annotations

import contextlib
import csv
import glob
import io
import json
import logging
import os
import re
import shutil
import socket
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

_UMASK = os.umask(0)
os.umask(_UMASK)
_HOST = re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname())[:40] or "host"
_TEMP = re.compile(r"\..+\.(?P<host>[A-Za-z0-9-]+)~(?P<pid>\d+)\.[^.]+\.tmp")


def _tag() -> str:
    return f"{_HOST}~{os.getpid()}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def sweep_stale(path: str | os.PathLike) -> list[Path]:
    """Remove what dead processes of this host left of ``path``: its temporaries beside it and,
    for a folder, the temporaries inside it. Returns the paths removed."""
    path = Path(path)
    candidates = list(path.parent.glob(f".{glob.escape(path.name)}.*")) if path.parent.is_dir() else []
    if path.is_dir() and not path.is_symlink():
        candidates += path.glob(".*")
    swept = []
    for cand in candidates:
        m = _TEMP.match(cand.name)
        if m and m["host"] == _HOST and not _alive(int(m["pid"])):
            _remove(cand)
            swept.append(cand)
    if swept:
        log.info("removed %d temporary file(s) of %s left by an interrupted run", len(swept), path)
    return swept


def _temp_name(path: Path) -> tuple[str, str]:
    """``(prefix, suffix-start)`` for tempfile: ``.<name>.<host>~<pid>.`` + random + ``.tmp...``."""
    return f".{path.name}.{_tag()}.", ".tmp"


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` on success.

    The temporary name keeps the real suffix (or ``suffix``) because some writers
    (``np.save``, ``keras.Model.save``, matplotlib) choose the format from it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sweep_stale(path)
    sfx = suffix if suffix is not None else "".join(path.suffixes)
    prefix, tmp_sfx = _temp_name(path)
    fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=f"{tmp_sfx}{sfx}", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    os.chmod(tmp_path, 0o666 & ~_UMASK)  # mkstemp makes 0600; outputs get the usual permissions
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def scratch_dir(beside: str | os.PathLike, label: str = "work") -> Iterator[Path]:
    """A temporary working folder beside ``beside`` (same filesystem, so its contents can be
    renamed into place), removed on exit however the block ends; stale ones are swept first."""
    beside = Path(beside)
    beside.parent.mkdir(parents=True, exist_ok=True)
    sweep_stale(beside)
    prefix, tmp_sfx = _temp_name(beside)
    tmp = Path(tempfile.mkdtemp(prefix=prefix, suffix=f"{tmp_sfx}.{label}", dir=beside.parent))
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary directory beside ``path``; it replaces ``path`` on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sweep_stale(path)
    prefix, tmp_sfx = _temp_name(path)
    tmp = Path(tempfile.mkdtemp(prefix=prefix, suffix=tmp_sfx, dir=path.parent))
    os.chmod(tmp, 0o777 & ~_UMASK)
    try:
        yield tmp
        if path.exists():
            old = Path(tempfile.mkdtemp(prefix=prefix, suffix=f"{tmp_sfx}.old", dir=path.parent))
            os.replace(path, old / path.name)
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def save_npy(path: str | os.PathLike, array: np.ndarray) -> None:
    with atomic_path(path, suffix=".npy") as tmp:
        np.save(tmp, array)


def write_text(path: str | os.PathLike, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_json(path: str | os.PathLike, obj) -> None:
    write_text(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


def write_table(path: str | os.PathLike, header: list, rows: list) -> None:
    """A results table as CSV (None cells left empty), for the page and for users."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for row in rows:
        w.writerow(["" if c is None else c for c in row])
    write_text(path, buf.getvalue())


def read_table(path: str | os.PathLike) -> tuple[list, list]:
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def sha256_file(path: str | os.PathLike) -> str:
    """The SHA-256 of a file's bytes, as hex."""
    import hashlib

    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def read_history(path: str | os.PathLike) -> "pd.DataFrame":
    """A history CSV with exactly one row per epoch (the last written wins).

    A resumed run may repeat the epoch it was killed in; its rerun is the one kept.
    Empty ``val_*`` columns are dropped: Keras' CSVLogger adds them (even
    ``val_learning_rate``) to runs without validation data, such as the GAN's.
    """
    import pandas as pd  # not at the top: most stages never read a history

    try:
        df = pd.read_csv(path)
    except pd.errors.EmptyDataError:  # created by a run killed in its first epoch
        return pd.DataFrame({"epoch": pd.Series(dtype=int)})
    if df.empty:
        return df
    df = df.drop(columns=[c for c in df.columns if c.startswith("val_") and df[c].isna().all()])
    df = df.drop_duplicates(subset="epoch", keep="last").sort_values("epoch").reset_index(drop=True)
    df["epoch"] = df["epoch"].astype(int)
    return df[_ordered_columns(df.columns)]


def _ordered_columns(columns) -> list[str]:
    """epoch, loss, other training metrics, their val_ twins, learning_rate, the rest."""
    cols = [c for c in columns if c != "epoch"]
    train = [c for c in cols if not c.startswith("val_") and c != "learning_rate"]
    train = [c for c in train if c == "loss"] + [c for c in train if c != "loss"]
    val = [f"val_{c}" for c in train if f"val_{c}" in cols]
    rest = [c for c in cols if c not in train and c not in val and c != "learning_rate"]
    lr = ["learning_rate"] if "learning_rate" in cols else []
    return ["epoch", *train, *val, *lr, *rest]
