"""The course's clock data format (``images.npy`` + ``labels.npy``) and its split.

The course ships ``images.npy`` (N, H, W) uint8 grayscale and ``labels.npy`` (N, 2)
integer ``[hour 0-11, minute 0-59]``, rows sorted by time. Everything downstream
trusts these two files, so they are checked once, here, with messages that name the
file and the fix. The split is stratified over the 720 minutes of the dial because
the rows are sorted by time: a contiguous or merely shuffled cut would leave some
times under-represented in the validation and test parts.
"""
from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path

import numpy as np

from idl.clock.labels import MINUTES_PER_DIAL, to_minutes
from idl.data.arrays import load_index, load_npy
from idl.errors import DataError
from idl.io import atomic_path

log = logging.getLogger(__name__)

IMAGES_FILE = "images.npy"
LABELS_FILE = "labels.npy"
SPLIT_PARTS = ("train", "val", "test")
#: Written beside images.npy by :func:`idl.clock.synth.write`: each row's dial turn,
#: float32 degrees clockwise from the top of the picture at which its 12 lies (before
#: the perspective tilt). The course data has no such record; the ``upright`` recipes
#: learn to find the 12 from it.
TURN_FILE = "dial_turn.npy"

_FIX = "re-download the course data (or regenerate it with idl.clock.synth.write)"


def validate_course_arrays(images: np.ndarray, labels: np.ndarray,
                           images_name: str | os.PathLike = IMAGES_FILE,
                           labels_name: str | os.PathLike = LABELS_FILE) -> None:
    """Raise DataError unless ``images``/``labels`` have the course layout.

    The names only go into the messages, so the user learns which file is wrong.
    """
    if images.ndim != 3 or images.dtype != np.uint8:
        raise DataError(f"{images_name}: expected (N, H, W) uint8 grayscale images, "
                        f"found shape {images.shape} dtype {images.dtype}")
    if labels.ndim != 2 or labels.shape[1] != 2 or not np.issubdtype(labels.dtype, np.integer):
        raise DataError(f"{labels_name}: expected (N, 2) integer [hour, minute] labels, "
                        f"found shape {labels.shape} dtype {labels.dtype}")
    if len(images) == 0 or 0 in images.shape[1:]:
        raise DataError(f"{images_name}: holds no images (shape {images.shape}); {_FIX}")
    if len(images) != len(labels):
        raise DataError(f"{images_name} has {len(images)} images but {labels_name} has "
                        f"{len(labels)} labels; the two files must come from the same dataset")
    for col, name, top in ((0, "hour", 11), (1, "minute", 59)):
        bad = np.flatnonzero((labels[:, col] < 0) | (labels[:, col] > top))
        if bad.size:
            row = int(bad[0])
            raise DataError(f"{labels_name}: row {row} has {name} {int(labels[row, col])}, "
                            f"outside 0..{top} ({bad.size} bad rows in all)")


def load_course_data(directory: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Read and check ``images.npy``/``labels.npy`` from ``directory``.

    Images come back memory-mapped read-only (the course file is 405 MB); labels as
    an in-memory int64 array.
    """
    directory = Path(directory)
    images_path, labels_path = directory / IMAGES_FILE, directory / LABELS_FILE
    images = load_npy(images_path, mmap=True, fix=_FIX)
    labels = load_npy(labels_path, fix=_FIX)
    validate_course_arrays(images, labels, images_path, labels_path)
    log.info("loaded %d clock images of %dx%d from %s", len(images), images.shape[1],
             images.shape[2], directory)
    return images, labels.astype(np.int64, copy=False)


def load_with_split(data_dir: str | os.PathLike, split_dir: str | os.PathLike | None):
    """``(images, labels, split)`` of a data folder and its split folder (``split`` None without one)."""
    images, labels = load_course_data(data_dir)
    if split_dir is None:
        return images, labels, None
    return images, labels, load_split(split_dir, n_rows=len(labels))


def load_dial_turn(directory: str | os.PathLike, n_rows: int) -> np.ndarray:
    """The generator's record of each dial's turn (:data:`TURN_FILE`), checked against ``n_rows``."""
    path = Path(directory) / TURN_FILE
    fix = ("a model that turns the dial upright learns where the 12 is from the generator's record of "
           "each dial's turn, which generated clocks have (idl.clock.synth.write) and the course data does not")
    turns = load_npy(path, fix=fix)
    if turns.shape != (n_rows,) or not np.issubdtype(turns.dtype, np.floating):
        raise DataError(f"{path}: expected {n_rows} float dial turns (one per image), found shape "
                        f"{turns.shape} dtype {turns.dtype}; regenerate the data with idl.clock.synth.write")
    if not np.all(np.isfinite(turns)):
        raise DataError(f"{path}: row {int(np.flatnonzero(~np.isfinite(turns))[0])} is not a finite angle; "
                        "regenerate the data with idl.clock.synth.write")
    return turns.astype(np.float64)


def write_course_data(directory: str | os.PathLike, images: np.ndarray, labels: np.ndarray) -> None:
    """Check, then write ``images.npy`` and ``labels.npy`` into ``directory``.

    Both files are written to temporaries first and renamed only when both
    succeeded, so a failure leaves the previous pair (or nothing) in place.
    """
    directory = Path(directory)
    images, labels = np.asarray(images), np.asarray(labels)
    images_path, labels_path = directory / IMAGES_FILE, directory / LABELS_FILE
    validate_course_arrays(images, labels, images_path, labels_path)
    with atomic_path(images_path) as tmp_images, atomic_path(labels_path) as tmp_labels:
        np.save(tmp_images, images)
        np.save(tmp_labels, labels.astype(np.int64, copy=False))
    log.info("wrote %d clock images to %s", len(images), directory)


def split_indices(labels: np.ndarray, fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
                  seed: int = 0) -> dict[str, np.ndarray]:
    """Row indices of a train/val/test split, stratified over the minutes of the dial.

    Each minute's rows are shuffled and cut by ``fractions``, so every minute is in
    every part as evenly as its row count allows (25 rows at 0.8/0.1/0.1 give
    20/2-3/2-3). Which minutes round up is spread out systematically, so the part
    sizes also match the fractions to within a row or so overall.

    How: row k (0-based, after shuffling) of a minute with n rows sits at
    u = (k + o) / n in [0, 1), and u's place among the cumulative fractions picks
    its part. The offsets o of the minutes are (j + o0) / G for a random
    permutation j of the G minutes: one systematic sample over the whole dataset.
    """
    fractions = tuple(float(f) for f in fractions)
    if len(fractions) != len(SPLIT_PARTS) or min(fractions) <= 0 or abs(sum(fractions) - 1) > 1e-6:
        raise ValueError(f"fractions must be three positive numbers (train, val, test) "
                         f"summing to 1, got {fractions}")
    minutes = to_minutes(labels) % MINUTES_PER_DIAL
    rng = np.random.default_rng(seed)
    groups, group_of_row, group_size = np.unique(minutes, return_inverse=True, return_counts=True)
    # shuffle within each minute: sort by (minute, random key)
    order = np.lexsort((rng.random(len(minutes)), group_of_row))
    group_start = np.concatenate([[0], np.cumsum(group_size)[:-1]])
    rank = np.empty(len(minutes), dtype=np.int64)
    rank[order] = np.arange(len(minutes)) - group_start[group_of_row[order]]
    offset = (rng.permutation(len(groups)) + rng.random()) / len(groups)
    u = (rank + offset[group_of_row]) / group_size[group_of_row]
    part = np.searchsorted(np.cumsum(fractions)[:-1], u, side="right")
    return {name: np.flatnonzero(part == i) for i, name in enumerate(SPLIT_PARTS)}


def save_split(directory: str | os.PathLike, split: dict[str, np.ndarray]) -> None:
    """Write ``train.npy``, ``val.npy``, ``test.npy``; all three are renamed in only together."""
    directory = Path(directory)
    missing = [p for p in SPLIT_PARTS if p not in split]
    if missing:
        raise ValueError(f"split lacks part(s) {missing}; expected keys {SPLIT_PARTS}")
    with contextlib.ExitStack() as stack:
        for name in SPLIT_PARTS:
            tmp = stack.enter_context(atomic_path(directory / f"{name}.npy"))
            np.save(tmp, np.asarray(split[name], dtype=np.int64))


def load_split(directory: str | os.PathLike, n_rows: int | None = None) -> dict[str, np.ndarray]:
    """Read a split written by :func:`save_split`: three disjoint, non-empty index lists, each
    index below ``n_rows`` (the rows of the data it splits) when that is given."""
    directory = Path(directory)
    fix = "rerun the split step"
    split = {name: load_index(directory / f"{name}.npy", n_rows, fix=fix) for name in SPLIT_PARTS}
    both = np.concatenate([split[p] for p in SPLIT_PARTS])
    if len(np.unique(both)) != len(both):
        raise DataError(f"{directory}: train/val/test share row indices; {fix}")
    return split
